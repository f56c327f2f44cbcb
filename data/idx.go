package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// IDX is the content of an IDX file (the format of the MNIST files,
// http://yann.lecun.com/exdb/mnist/): a magic number 0x00 0x00 type ndims,
// ndims big-endian uint32 dimensions, then the data in row-major order.
// Only unsigned-byte data (type 0x08) is supported, which is what MNIST uses.
type IDX struct {
	Dims []int
	Data []byte // product(Dims) bytes
}

const (
	idxTypeUbyte = 0x08
	idxMaxDims   = 4
	// idxMaxBytes bounds the data size a header may announce, so a hostile
	// or corrupt header cannot make us attempt an absurd read.
	idxMaxBytes = 1 << 31
	// idxInitialCap caps the buffer allocated before any data has been read,
	// so a header announcing a huge size in a tiny file costs little memory.
	idxInitialCap = 64 << 20
)

// ReadIDX reads an unsigned-byte IDX file from r. name is only used in
// error messages, which all start with it. The data must be exactly as long
// as the dimensions say; truncated data and trailing bytes are errors. It
// never panics, whatever the input.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, idxReadError(name, "header", len(magic), n, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%s: not an IDX file: magic % x does not start with 00 00", name, magic)
	}
	if magic[2] != idxTypeUbyte {
		return nil, fmt.Errorf("%s: unsupported IDX data type 0x%02x (only unsigned byte, 0x08, is supported)", name, magic[2])
	}
	ndims := int(magic[3])
	if ndims < 1 || ndims > idxMaxDims {
		return nil, fmt.Errorf("%s: unsupported IDX dimension count %d (want 1 to %d)", name, ndims, idxMaxDims)
	}
	raw := make([]byte, 4*ndims)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, idxReadError(name, "header", len(magic)+len(raw), len(magic)+n, err)
	}
	dims := make([]int, ndims)
	size := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if d == 0 {
			return nil, fmt.Errorf("%s: IDX dimension %d is zero", name, i)
		}
		dims[i] = int(d)
		size *= int64(d) // cannot overflow: size < 2^31 and d < 2^32
		if size >= idxMaxBytes {
			return nil, fmt.Errorf("%s: IDX dimensions %v are absurdly large (>= 2^31 bytes)", name, dims[:i+1])
		}
	}
	buf, err := readUpTo(r, int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: reading IDX data: %w", name, err)
	}
	if len(buf) < int(size) {
		return nil, fmt.Errorf("%s: truncated: want %d bytes, got %d", name, size, len(buf))
	}
	// Reading one more byte both detects trailing data and, for a gzip
	// stream, makes the decompressor check its CRC and length trailer.
	var extra [1]byte
	n, err := io.ReadFull(r, extra[:])
	if n > 0 {
		return nil, fmt.Errorf("%s: trailing bytes after the %d bytes of IDX data", name, size)
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: reading IDX data: %w", name, err)
	}
	return &IDX{Dims: dims, Data: buf}, nil
}

// idxReadError describes a failed io.ReadFull of part of an IDX file.
func idxReadError(name, part string, want, got int, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: truncated %s: want %d bytes, got %d", name, part, want, got)
	}
	return fmt.Errorf("%s: reading IDX %s: %w", name, part, err)
}

// readUpTo reads until it has n bytes or r is exhausted. It returns fewer
// than n bytes, and no error, when r ends early. The buffer grows with the
// data actually read rather than with the size a header claims.
func readUpTo(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, idxInitialCap))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), n))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// ReadIDXFile reads the IDX file at path, decompressing it if its name ends
// in .gz or its content starts with the gzip magic bytes 1f 8b. Error
// messages start with path.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return readIDXMaybeGzip(f, path, strings.HasSuffix(strings.ToLower(path), ".gz"))
}

// readIDXMaybeGzip is ReadIDXFile's reader part, separate so that the fuzz
// test can exercise the gzip path too.
func readIDXMaybeGzip(r io.Reader, name string, gzipped bool) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gzipped = true
	}
	if !gzipped {
		return ReadIDX(br, name)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt gzip stream: %w", name, err)
	}
	defer zr.Close()
	return ReadIDX(gzipErrorReader{zr}, name)
}

// gzipErrorReader marks the errors of the decompressor, so that a corrupt
// or cut-off .gz file is reported as such rather than as a truncated IDX.
type gzipErrorReader struct{ r io.Reader }

func (g gzipErrorReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = &gzipError{err}
	}
	return n, err
}

type gzipError struct{ err error }

func (e *gzipError) Error() string { return "corrupt gzip stream: " + e.err.Error() }
func (e *gzipError) Unwrap() error { return e.err }
