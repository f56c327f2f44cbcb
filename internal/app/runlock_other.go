//go:build !unix

package app

// lockRun is a no-op where flock is missing: the run folder is not
// protected from a second `genmodel train` there.
func lockRun(string) (unlock func(), err error) { return func() {}, nil }
