//go:build !unix

// Package runlock keeps two trainers out of one run folder where the
// system has flock; elsewhere it does nothing.
package runlock

// Lock is a no-op where flock is missing: the run folder is not protected
// from a second `genmodel train` there.
func Lock(string) (unlock func(), err error) { return func() {}, nil }

// Held is always false where flock is missing.
func Held(string) bool { return false }
