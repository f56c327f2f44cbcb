package safetensors

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Regenerate the fixtures with:
//
//	go test ./internal/safetensors -run TestFixtures -update
var update = flag.Bool("update", false, "rewrite the files in testdata/safetensors")

const fixtureDir = "../../testdata/safetensors"

var goodTensors = []Tensor{
	{Name: "encoder.0.weight", Shape: []int{2, 3}, Data: []float32{0.5, -1, 2, 1e-3, 0, 3.25}},
	{Name: "encoder.0.bias", Shape: []int{3}, Data: []float32{0.1, 0.2, 0.3}},
	{Name: "step", Shape: []int{}, Data: []float32{1000}},
}

var goodMetadata = map[string]string{"format": "genmodel", "note": "naïve ✓"}

// fixtures builds the contents of every file in testdata/safetensors. They
// are defined here, not only as opaque files, so a reader can see exactly
// what is wrong with each one.
func fixtures(t *testing.T) map[string][]byte {
	var good bytes.Buffer
	if err := Encode(&good, goodTensors, goodMetadata); err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"good.safetensors":      good.Bytes(),
		"truncated.safetensors": good.Bytes()[:good.Len()-6], // download cut short
		"bad_header.safetensors": rawFile(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]`,
			make([]byte, 4)), // unterminated JSON
		"bf16.safetensors": rawFile(`{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`,
			[]byte{0x80, 0x3f, 0x00, 0x40}), // 1.0, 2.0 as bfloat16, as PyTorch writes them
		"unsupported_dtype.safetensors": rawFile(`{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`,
			[]byte{1, 0, 0, 0, 0, 0, 0, 0}), // a step counter as int64
		"huge_header_length.safetensors": lengthOnly(1<<62, 16),
	}
}

func TestFixtures(t *testing.T) {
	for name, content := range fixtures(t) {
		path := filepath.Join(fixtureDir, name)
		if *update {
			if err := os.MkdirAll(fixtureDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		onDisk, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(onDisk, content) {
			t.Errorf("%s is stale; run with -update to regenerate", path)
		}
	}
}

func TestReadFileGood(t *testing.T) {
	f, err := ReadFile(filepath.Join(fixtureDir, "good.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, f.Tensors, goodTensors)
	sameMetadata(t, f.Metadata, goodMetadata)
}

// TestReadFileBF16 reads a file with a bfloat16 tensor, the dtype most
// published half-precision weights use.
func TestReadFileBF16(t *testing.T) {
	f, err := ReadFile(filepath.Join(fixtureDir, "bf16.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, f.Tensors, []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}, DType: "BF16"}})
}

func TestReadFileRejectsBadFixtures(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string
	}{
		{"truncated.safetensors", "tensor encoder.0.bias: data_offsets [24,36] exceed data buffer of 34 bytes"},
		{"bad_header.safetensors", "header is not valid JSON"},
		{"unsupported_dtype.safetensors", "unsupported dtype I64 for tensor w; genmodel reads F32, F16 and BF16"},
		{"huge_header_length.safetensors", "header length 4611686018427387904 exceeds the 100000000-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(fixtureDir, tt.file)
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("ReadFile succeeded, want error")
			}
			wantPrefix := path + ": not a safetensors file: "
			if !strings.HasPrefix(err.Error(), wantPrefix) {
				t.Errorf("error %q does not start with %q", err, wantPrefix)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.safetensors")
	_, err := ReadFile(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile error = %v, want a not-exist error naming %s", err, path)
	}
}

func TestWriteFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	for i, tensors := range [][]Tensor{goodTensors, goodTensors[:1]} {
		if err := WriteFile(path, tensors, goodMetadata); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		f, err := ReadFile(path)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		sameTensors(t, f.Tensors, tensors)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("new file mode %v, want 0644 rather than CreateTemp's 0600", info.Mode().Perm())
		}
	}
}

// TestWriteFileRejectedKeepsOldFile checks that tensors the encoder
// refuses leave the last good file as it was (the atomic replacement itself
// is atomicfile's, tested there).
func TestWriteFileRejectedKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	if err := WriteFile(path, goodTensors, goodMetadata); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = WriteFile(path, []Tensor{goodTensors[0], goodTensors[0]}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "writing "+path+": ") || !strings.Contains(err.Error(), "duplicate tensor name") {
		t.Fatalf("error %v, want \"writing %s: ...duplicate tensor name...\"", err, path)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the last good file changed by a refused write (%v)", err)
	}
	assertOnlyFile(t, dir, "ck.safetensors")
}

func TestWriteFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(dir string) string // returns the path to write
	}{
		{"directory does not exist", func(dir string) string {
			return filepath.Join(dir, "no", "such", "dir", "ck.safetensors")
		}},
		{"path is a directory", func(dir string) string {
			path := filepath.Join(dir, "ck.safetensors")
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(dir)
			err := WriteFile(path, goodTensors, nil)
			if err == nil {
				t.Fatal("WriteFile succeeded, want error")
			}
			if !strings.HasPrefix(err.Error(), "writing "+path+": ") {
				t.Errorf("error %q does not name %s", err, path)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temp file %s left behind", e.Name())
				}
			}
		})
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
