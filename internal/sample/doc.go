// Package sample draws images from trained models and writes them as PNG files.
package sample
