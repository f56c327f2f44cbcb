// Package atomicfile replaces files so that readers and crashes see either
// the old file or the complete new one: checkpoints, PNG grids, configs and
// tables all go through it.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces the file at path with what write produces, such
// that readers and crashes see either the old file or the complete new one,
// never a torn mix. It writes to a temporary file in the same directory
// (rename is only atomic within one file system), flushes it to stable
// storage, renames it over path, then syncs the directory so the rename
// itself survives a crash (best effort: not every platform allows it).
//
// On any error, including one returned by write, the temporary file is
// removed, the existing file at path is left untouched, and the returned
// error names path. The new file keeps the permissions of the file it
// replaces, or gets 0644 if there was none.
func Write(path string, write func(w io.Writer) error) error {
	if err := replace(path, write); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteBytes is Write of a byte slice.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func replace(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			tmp.Close()
		}
		os.Remove(tmp.Name())
	}()

	// CreateTemp uses 0600, which would silently make checkpoints and
	// images private; keep the replaced file's mode, else a common default.
	// The umask cannot be read without changing it, so it is not applied.
	mode := fs.FileMode(0o644)
	if info, statErr := os.Stat(path); statErr == nil && info.Mode().IsRegular() {
		mode = info.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}

	buffered := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(buffered); err != nil {
		return err
	}
	if err := buffered.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a completed rename durable. Errors are ignored: the data is
// already safely in place, and some systems (Windows, some network file
// systems) cannot fsync a directory at all.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
