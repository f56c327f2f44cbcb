// Package app implements genmodel's commands as plain functions of an options
// struct and writers, so that the cobra commands in cmd/genmodel stay thin and
// tests call the commands without a terminal.
package app

// Version is genmodel's version, written into every checkpoint.
const Version = "0.1.0"
