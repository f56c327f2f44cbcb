package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// idxBytes builds an unsigned-byte IDX file with the given dims and data.
func idxBytes(dims []int, data []byte) []byte {
	b := []byte{0, 0, idxTypeUbyte, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// idxCase is an input of ReadIDX and what it must give.
type idxCase struct {
	name     string
	in       []byte
	wantDims []int
	wantErr  string // substring; "" means success
}

// idxCases are ReadIDX's table tests; FuzzReadIDX starts from them too.
func idxCases() []idxCase {
	good3 := idxBytes([]int{2, 3, 4}, seq(24))
	return []idxCase{
		{"1-D", idxBytes([]int{5}, seq(5)), []int{5}, ""},
		{"3-D", good3, []int{2, 3, 4}, ""},
		{"4-D", idxBytes([]int{1, 2, 1, 2}, seq(4)), []int{1, 2, 1, 2}, ""},
		{"empty input", nil, nil, "truncated header: want 4 bytes, got 0"},
		{"truncated magic", []byte{0, 0}, nil, "truncated header: want 4 bytes, got 2"},
		{"truncated dims", good3[:9], nil, "truncated header: want 16 bytes, got 9"},
		{"truncated data", good3[:len(good3)-4], nil, "truncated: want 24 bytes, got 20"},
		{"no data", good3[:16], nil, "truncated: want 24 bytes, got 0"},
		{"trailing bytes", append(append([]byte{}, good3...), 1, 2), nil, "trailing bytes"},
		{"magic byte 0 non-zero", append([]byte{1}, good3[1:]...), nil, "not an IDX file"},
		{"magic byte 1 non-zero", append([]byte{0, 8}, good3[2:]...), nil, "not an IDX file"},
		{"float type", append([]byte{0, 0, 0x0d}, good3[3:]...), nil, "unsupported IDX data type 0x0d"},
		{"signed byte type", append([]byte{0, 0, 0x09}, good3[3:]...), nil, "unsupported IDX data type 0x09"},
		{"zero ndims", []byte{0, 0, 8, 0}, nil, "dimension count 0"},
		{"five ndims", idxBytes([]int{1, 1, 1, 1, 1}, seq(1)), nil, "dimension count 5"},
		{"zero dim", idxBytes([]int{2, 0, 4}, nil), nil, "dimension 1 is zero"},
		{"absurd dims", idxBytes([]int{1 << 16, 1 << 15}, nil), nil, "absurdly large"},
		{"max uint32 dims", []byte{0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255}, nil, "absurdly large"},
	}
}

func TestReadIDX(t *testing.T) {
	for _, tc := range idxCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadIDX(bytes.NewReader(tc.in), "some.idx")
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got dims %v, want error containing %q", got.Dims, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "some.idx: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want prefix %q and substring %q", err, "some.idx: ", tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Dims, tc.wantDims) {
				t.Errorf("dims %v, want %v", got.Dims, tc.wantDims)
			}
			headerLen := 4 + 4*len(tc.wantDims)
			if !bytes.Equal(got.Data, tc.in[headerLen:]) {
				t.Errorf("data %v, want %v", got.Data, tc.in[headerLen:])
			}
		})
	}
}

// TestReadIDXFileGzip covers ReadIDXFile's decompression, detected by name
// or by content.
func TestReadIDXFileGzip(t *testing.T) {
	raw := idxBytes([]int{3, 2}, seq(6))
	z := gzipBytes(t, raw)
	badCRC := append([]byte{}, z...)
	badCRC[len(badCRC)-8] ^= 0xff
	dir := t.TempDir()
	tests := []struct {
		file    string
		content []byte
		wantErr string
	}{
		{"a.idx.gz", z, ""},
		{"a.IDX.GZ", z, ""},
		{"gzip-without-suffix.idx", z, ""},
		{"plain.idx", raw, ""},
		{"plain-named.gz", raw, "corrupt gzip stream"},
		{"badcrc.gz", badCRC, "corrupt gzip stream"},
		{"cut.gz", z[:len(z)-12], "corrupt gzip stream"},
		{"gzip-header-only.gz", z[:10], "corrupt gzip stream"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadIDXFile(path)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one starting with %q containing %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Dims, []int{3, 2}) || !bytes.Equal(got.Data, seq(6)) {
				t.Errorf("got %v %v, want [3 2] %v", got.Dims, got.Data, seq(6))
			}
		})
	}
	if _, err := ReadIDXFile(filepath.Join(dir, "missing.idx")); err == nil || !strings.Contains(err.Error(), "missing.idx") {
		t.Errorf("missing file: error %v, want one naming the file", err)
	}
}

// TestReadIDXFixtures reads the hostile files in testdata/idx.
func TestReadIDXFixtures(t *testing.T) {
	tests := []struct {
		file     string
		wantDims []int
		wantErr  string
	}{
		{"valid.idx1", []int{3}, ""},
		{"valid.idx3.gz", []int{2, 2, 3}, ""},
		{"truncated.idx3", nil, "truncated: want 12 bytes, got 9"},
		{"truncated-header.idx3", nil, "truncated header: want 16 bytes, got 10"},
		{"badmagic.idx1", nil, "not an IDX file"},
		{"badtype.idx1", nil, "unsupported IDX data type 0x0d"},
		{"zerodim.idx3", nil, "dimension 1 is zero"},
		{"hugedims.idx3", nil, "absurdly large"},
		{"trailing.idx1", nil, "trailing bytes"},
		{"badcrc.idx3.gz", nil, "corrupt gzip stream"},
		{"cut.idx3.gz", nil, "corrupt gzip stream"},
		{"notgzip.idx1.gz", nil, "corrupt gzip stream"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := "../testdata/idx/" + tc.file
			got, err := ReadIDXFile(path)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one starting with %q containing %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Dims, tc.wantDims) {
				t.Errorf("dims %v, want %v", got.Dims, tc.wantDims)
			}
		})
	}
}

// FuzzReadIDX feeds the IDX reader arbitrary bytes, both as they are and
// gzip-compressed, and through readIDXMaybeGzip (ReadIDXFile's reader part)
// with and without the .gz name. Nothing may panic and every error must
// start with the name. What ReadIDX accepts must re-encode to exactly the
// input (the format has one encoding per content), and reading the
// gzip-compressed input must give the same dims and data, or the same
// error, as reading it plain.
func FuzzReadIDX(f *testing.F) {
	files, err := filepath.Glob("../testdata/idx/*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures in ../testdata/idx: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tc := range idxCases() {
		f.Add(tc.in)
		f.Add(gzipBytes(f, tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		plain, plainErr := ReadIDX(bytes.NewReader(in), "fuzz")
		checkIDXResult(t, plain, plainErr)
		if plainErr == nil {
			if again := idxBytes(plain.Dims, plain.Data); !bytes.Equal(again, in) {
				t.Fatalf("accepted %d bytes that re-encode to %d other bytes", len(in), len(again))
			}
		}

		// The same content gzip-compressed, through the gzip path.
		zipped, zippedErr := readIDXMaybeGzip(bytes.NewReader(gzipBytes(t, in)), "fuzz", true)
		checkIDXResult(t, zipped, zippedErr)
		switch {
		case (plainErr == nil) != (zippedErr == nil):
			t.Fatalf("plain: %v; gzipped: %v", plainErr, zippedErr)
		case plainErr != nil && plainErr.Error() != zippedErr.Error():
			t.Fatalf("plain error %q, gzipped error %q", plainErr, zippedErr)
		case plainErr == nil && (!reflect.DeepEqual(plain.Dims, zipped.Dims) || !bytes.Equal(plain.Data, zipped.Data)):
			t.Fatalf("plain dims %v, gzipped dims %v, or their data differ", plain.Dims, zipped.Dims)
		}

		// The bytes themselves, as a file named .gz and as one not:
		// content starting with the gzip magic is decompressed either way.
		isGzip := len(in) >= 2 && in[0] == 0x1f && in[1] == 0x8b
		for _, named := range []bool{false, true} {
			idx, err := readIDXMaybeGzip(bytes.NewReader(in), "fuzz", named)
			checkIDXResult(t, idx, err)
			if !named && !isGzip && (err == nil) != (plainErr == nil) {
				t.Fatalf("readIDXMaybeGzip: %v; ReadIDX: %v", err, plainErr)
			}
		}
	})
}

// checkIDXResult checks one result of the IDX reader: an error starting
// with the name, or dims in range whose product is the data length.
func checkIDXResult(t *testing.T, idx *IDX, err error) {
	t.Helper()
	if err != nil {
		if !strings.HasPrefix(err.Error(), "fuzz: ") {
			t.Fatalf("error %q does not start with the name", err)
		}
		return
	}
	n := 1
	for _, d := range idx.Dims {
		if d <= 0 {
			t.Fatalf("accepted dims %v", idx.Dims)
		}
		n *= d
	}
	if len(idx.Data) != n || len(idx.Dims) < 1 || len(idx.Dims) > idxMaxDims {
		t.Fatalf("accepted dims %v with %d data bytes", idx.Dims, len(idx.Data))
	}
}
