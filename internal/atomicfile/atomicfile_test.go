package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWriteKeepsModeOfReplacedFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "private.txt")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the replaced file's 0600", info.Mode().Perm())
	}
}

func TestWriteLeavesOldFileOnFailure(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		write func(w io.Writer) error
	}{
		{"callback fails before writing", func(io.Writer) error { return errBoom }},
		// More than the bufio buffer, so partial data reaches the temp file.
		{"callback fails midway", func(w io.Writer) error {
			if _, err := w.Write(make([]byte, 3<<20)); err != nil {
				return err
			}
			return errBoom
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ck.bin")
			before := []byte("the last good file")
			if err := os.WriteFile(path, before, 0o644); err != nil {
				t.Fatal(err)
			}
			err := Write(path, tt.write)
			if err == nil {
				t.Fatal("write succeeded, want error")
			}
			if !strings.HasPrefix(err.Error(), "writing "+path+": ") || !errors.Is(err, errBoom) {
				t.Errorf("error %q, want \"writing %s: ...\" wrapping the callback's error", err, path)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, before) {
				t.Error("existing file was modified by a failed write")
			}
			assertOnlyFile(t, dir, "ck.bin")
		})
	}
}

func TestWriteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := Write("plain.txt", func(w io.Writer) error {
		_, err := io.WriteString(w, "hello")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "plain.txt"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("read back %q, %v; want \"hello\"", got, err)
	}
	assertOnlyFile(t, dir, "plain.txt")
}

func TestWriteBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	for _, want := range []string{"first", "second, longer"} {
		if err := WriteBytes(path, []byte(want)); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	if err := WriteBytes(filepath.Join(t.TempDir(), "missing", "x"), nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing folder: %v", err)
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only %s", names, name)
	}
}
