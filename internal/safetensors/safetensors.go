// Package safetensors reads and writes checkpoints in the Hugging Face
// safetensors format, restricted to little-endian floating-point tensors:
// float32 (F32), IEEE half (F16) and bfloat16 (BF16). In memory every
// tensor is float32; Tensor.DType says how it is (or will be) stored.
//
// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// header, then the data buffer. The header maps each tensor name to
// {"dtype","shape","data_offsets"}, where the offsets are relative to the
// start of the data buffer, plus an optional "__metadata__" object of
// string values. Files written here pad the header with spaces so the data
// buffer starts 8-byte aligned, which the upstream format permits.
//
// Decode validates everything the upstream reference implementation
// validates (offsets contiguous and covering the buffer exactly, sizes
// matching shapes) so a corrupt or hostile file yields a short error and
// never a panic or an allocation much larger than the input (the float32
// values of 16-bit tensors take twice the bytes they were stored in).
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genmodel/genmodel/internal/atomicfile"
)

// Tensor is one named float32 tensor in row-major order.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32 // len = product of Shape (1 for a scalar, shape [])
	// DType is how the tensor is stored in the file: "F32", "F16" or
	// "BF16". Decode sets it to the file's dtype; Encode writes it, with
	// "" meaning "F32", rounding each value to the nearest representable
	// one (ties to even) for F16 and BF16.
	DType string
}

// File is a decoded safetensors file.
type File struct {
	Tensors  []Tensor          // in data-offset order
	Metadata map[string]string // may be empty
}

// Lookup returns the tensor called name. It scans linearly rather than
// keeping an index so that callers may freely edit f.Tensors; checkpoints
// hold few enough tensors that this costs nothing measurable.
func (f *File) Lookup(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

const (
	metadataKey = "__metadata__"
	dtypeF32    = "F32"
	dtypeF16    = "F16"
	dtypeBF16   = "BF16"
	// maxElemSize is the largest element size of a supported dtype;
	// elementCount keeps count*maxElemSize within an int.
	maxElemSize = 4

	// maxHeaderLen is the upstream implementation's limit; it stops a
	// corrupt length field from making us buffer an absurd header.
	maxHeaderLen = 100_000_000
	// headerAlign is the alignment of the data buffer in files we write.
	headerAlign = 8
	// lengthFieldSize is the size of the leading header-length field.
	lengthFieldSize = 8
)

// elementCount returns the product of shape, failing on negative dimensions
// and on overflow. Like the upstream implementation it multiplies left to
// right and rejects any intermediate overflow, so both sides agree on which
// shapes are representable. The result also fits in an int when multiplied
// by maxElemSize, so callers can compute byte sizes without further checks.
func elementCount(shape []int) (int, error) {
	count := 1
	for _, dim := range shape {
		if dim < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %s", dim, formatShape(shape))
		}
		if dim != 0 && count > math.MaxInt/maxElemSize/dim {
			return 0, fmt.Errorf("shape %s has too many elements", formatShape(shape))
		}
		count *= dim
	}
	return count, nil
}

// elementSize returns the bytes per element of a supported dtype, or 0.
func elementSize(dtype string) int {
	switch dtype {
	case dtypeF32:
		return 4
	case dtypeF16, dtypeBF16:
		return 2
	}
	return 0
}

// Encode writes the file to w. Tensors are stored in the order given,
// contiguously, each in its DType. It fails, before writing anything, on an
// empty, duplicate, reserved ("__metadata__") or non-UTF-8 name, an
// unsupported DType, a negative dimension, or len(Data) != product(Shape).
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, err := buildHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var lengthField [lengthFieldSize]byte
	binary.LittleEndian.PutUint64(lengthField[:], uint64(len(header)))
	if _, err := w.Write(lengthField[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	// Convert through a fixed chunk so encoding a large checkpoint does not
	// need a second full-size copy of the data in memory.
	chunk := make([]byte, 0, 64<<10)
	for _, t := range tensors {
		dtype := storedDType(t.DType)
		for _, v := range t.Data {
			if len(chunk)+maxElemSize > cap(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
				chunk = chunk[:0]
			}
			switch dtype {
			case dtypeF16:
				chunk = binary.LittleEndian.AppendUint16(chunk, f32ToF16(v))
			case dtypeBF16:
				chunk = binary.LittleEndian.AppendUint16(chunk, f32ToBF16(v))
			default:
				chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
			}
		}
	}
	if len(chunk) > 0 {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	return nil
}

// storedDType is the dtype a Tensor.DType is written as.
func storedDType(dtype string) string {
	if dtype == "" {
		return dtypeF32
	}
	return dtype
}

// buildHeader validates the tensors and renders the padded JSON header.
// The JSON is assembled by hand because tensor order must be preserved,
// which encoding/json's map encoding (sorted keys) would not do.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	needComma := false
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("metadata key %s: not valid UTF-8", displayName(k))
			}
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic output for identical input
		writeJSONString(&buf, metadataKey)
		buf.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(&buf, k)
			buf.WriteByte(':')
			writeJSONString(&buf, metadata[k])
		}
		buf.WriteByte('}')
		needComma = true
	}

	seen := make(map[string]bool, len(tensors))
	offset := 0
	for _, t := range tensors {
		switch {
		case t.Name == "":
			return nil, errors.New("tensor with empty name")
		case t.Name == metadataKey:
			return nil, fmt.Errorf("tensor name %s is reserved", metadataKey)
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("tensor name %s is not valid UTF-8", displayName(t.Name))
		case seen[t.Name]:
			return nil, fmt.Errorf("duplicate tensor name %s", displayName(t.Name))
		}
		seen[t.Name] = true
		dtype := storedDType(t.DType)
		elemSize := elementSize(dtype)
		if elemSize == 0 {
			return nil, fmt.Errorf("tensor %s: unsupported dtype %s; genmodel writes F32, F16 and BF16",
				displayName(t.Name), displayName(dtype))
		}
		count, err := elementCount(t.Shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %v", displayName(t.Name), err)
		}
		if len(t.Data) != count {
			return nil, fmt.Errorf("tensor %s: shape %s needs %d values, have %d",
				displayName(t.Name), formatShape(t.Shape), count, len(t.Data))
		}
		size := count * elemSize
		if offset > math.MaxInt-size {
			return nil, errors.New("tensors too large in total")
		}
		if needComma {
			buf.WriteByte(',')
		}
		needComma = true
		writeJSONString(&buf, t.Name)
		buf.WriteString(`:{"dtype":"`)
		buf.WriteString(dtype) // one of the supported names: no escaping needed
		buf.WriteString(`","shape":`)
		buf.WriteString(formatShape(t.Shape))
		fmt.Fprintf(&buf, `,"data_offsets":[%d,%d]}`, offset, offset+size)
		offset += size
	}
	buf.WriteByte('}')

	// The data buffer starts at lengthFieldSize+len(header); since the
	// length field is itself aligned, aligning the header length suffices.
	for buf.Len()%headerAlign != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes(), nil
}

// writeJSONString appends s as a JSON string literal. s must be valid UTF-8
// (checked by the caller) or json.Marshal would silently replace bytes.
func writeJSONString(buf *bytes.Buffer, s string) {
	quoted, err := json.Marshal(s)
	if err != nil {
		panic(err) // cannot happen for a Go string
	}
	buf.Write(quoted)
}

// Decode reads all of r and decodes it as a safetensors file.
func Decode(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading safetensors data: %w", err)
	}
	return decodeBytes(data)
}

// tensorEntry is a header entry before validation against the buffer.
type tensorEntry struct {
	name       string
	dtype      string // a supported one
	shape      []int
	begin, end int64
	count      int
}

func decodeBytes(data []byte) (*File, error) {
	if len(data) < lengthFieldSize {
		return nil, fmt.Errorf("file is %d bytes, too short for the %d-byte header length", len(data), lengthFieldSize)
	}
	headerLen := binary.LittleEndian.Uint64(data[:lengthFieldSize])
	switch {
	case headerLen < 2:
		return nil, fmt.Errorf("header length %d is too small", headerLen)
	case headerLen > maxHeaderLen:
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", headerLen, maxHeaderLen)
	case headerLen > uint64(len(data)-lengthFieldSize):
		return nil, fmt.Errorf("header length %d exceeds file size %d", headerLen, len(data))
	}
	header := data[lengthFieldSize : lengthFieldSize+int(headerLen)]
	buffer := data[lengthFieldSize+int(headerLen):]

	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if err := checkLayout(entries, int64(len(buffer))); err != nil {
		return nil, err
	}

	// One allocation for all tensors; each gets a capped sub-slice so an
	// append on one tensor can never overwrite its neighbour. checkLayout
	// made the counts tile the buffer, so total is at most len(buffer)/2.
	total := 0
	for _, e := range entries {
		total += e.count
	}
	all := make([]float32, total)
	file := &File{Tensors: make([]Tensor, len(entries)), Metadata: metadata}
	lo := 0
	for i, e := range entries {
		hi := lo + e.count
		decodeValues(all[lo:hi], buffer[e.begin:e.end], e.dtype)
		file.Tensors[i] = Tensor{Name: e.name, Shape: e.shape, Data: all[lo:hi:hi], DType: e.dtype}
		lo = hi
	}
	return file, nil
}

// decodeValues converts the little-endian values of src, stored as dtype,
// into dst; len(src) is len(dst) times the element size.
func decodeValues(dst []float32, src []byte, dtype string) {
	switch dtype {
	case dtypeF16:
		for i := range dst {
			dst[i] = f16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case dtypeBF16:
		for i := range dst {
			dst[i] = bf16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	default:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}
}

// parseHeader walks the header with json.Decoder tokens rather than
// unmarshalling into a map so that duplicate keys, which encoding/json would
// silently resolve to the last value, are reported, and field names match
// case-sensitively as in the upstream implementation. Duplicate keys inside
// "__metadata__" and inside a tensor entry are reported too.
func parseHeader(header []byte) ([]tensorEntry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	// Upstream requires the object to start at the first byte; trailing
	// whitespace is the padding.
	if header[0] != '{' {
		return nil, nil, errors.New("header is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return nil, nil, headerSyntaxError(err)
	}
	var entries []tensorEntry
	metadata := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, headerSyntaxError(err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("duplicate key %s in header", displayName(name))
		}
		seen[name] = true
		if name == metadataKey {
			if err := parseMetadata(dec, metadata); err != nil {
				return nil, nil, err
			}
			continue
		}
		if name == "" {
			return nil, nil, errors.New("tensor with empty name in header")
		}
		entry, err := parseEntry(dec, name)
		var dtypeErr unsupportedDtypeError
		if errors.As(err, &dtypeErr) {
			return nil, nil, dtypeErr // already names the tensor
		}
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %v", displayName(name), err)
		}
		entries = append(entries, entry)
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, nil, headerSyntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("header has data after the JSON object")
	}
	return entries, metadata, nil
}

func headerSyntaxError(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("header is not valid JSON: %v", err)
}

func parseMetadata(dec *json.Decoder, into map[string]string) error {
	tok, err := dec.Token()
	if err != nil {
		return headerSyntaxError(err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%s is not an object", metadataKey)
	}
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return headerSyntaxError(err)
		}
		key := keyTok.(string)
		valueTok, err := dec.Token()
		if err != nil {
			return headerSyntaxError(err)
		}
		value, ok := valueTok.(string)
		if !ok {
			return fmt.Errorf("%s value for key %s is not a string", metadataKey, displayName(key))
		}
		if _, dup := into[key]; dup {
			return fmt.Errorf("duplicate key %s in %s", displayName(key), metadataKey)
		}
		into[key] = value
	}
	if _, err := dec.Token(); err != nil {
		return headerSyntaxError(err)
	}
	return nil
}

// parseEntry reads one {"dtype","shape","data_offsets"} object and checks it
// on its own; checks against other entries and the buffer come later.
func parseEntry(dec *json.Decoder, name string) (tensorEntry, error) {
	entry := tensorEntry{name: name}
	tok, err := dec.Token()
	if err != nil {
		return entry, headerSyntaxError(err)
	}
	if tok != json.Delim('{') {
		return entry, errors.New("header entry is not an object")
	}
	var dtype string
	var offsets []int64
	var haveDtype, haveShape, haveOffsets bool
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return entry, headerSyntaxError(err)
		}
		key := keyTok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return entry, headerSyntaxError(err)
		}
		var have *bool
		switch key {
		case "dtype":
			have = &haveDtype
			if raw[0] != '"' {
				return entry, errors.New("dtype is not a string")
			}
			err = json.Unmarshal(raw, &dtype)
		case "shape":
			have = &haveShape
			if raw[0] != '[' {
				return entry, errors.New("shape is not an array")
			}
			err = json.Unmarshal(raw, &entry.shape)
		case "data_offsets":
			have = &haveOffsets
			if raw[0] != '[' {
				return entry, errors.New("data_offsets is not an array")
			}
			err = json.Unmarshal(raw, &offsets)
		default:
			continue // upstream ignores unknown fields
		}
		if err != nil {
			return entry, fmt.Errorf("%s: %v", key, err)
		}
		if *have {
			return entry, fmt.Errorf("duplicate field %s", key)
		}
		*have = true
	}
	if _, err := dec.Token(); err != nil {
		return entry, headerSyntaxError(err)
	}
	switch {
	case !haveDtype:
		return entry, errors.New("missing dtype")
	case !haveShape:
		return entry, errors.New("missing shape")
	case !haveOffsets:
		return entry, errors.New("missing data_offsets")
	}
	if elementSize(dtype) == 0 {
		// A distinct type so the caller reports it without the usual
		// "tensor x:" prefix; the message already names the tensor.
		return entry, unsupportedDtypeError{dtype: dtype, name: name}
	}
	entry.dtype = dtype
	if len(offsets) != 2 {
		return entry, fmt.Errorf("data_offsets has %d values, want 2", len(offsets))
	}
	entry.begin, entry.end = offsets[0], offsets[1]
	if entry.begin < 0 || entry.end < entry.begin {
		return entry, fmt.Errorf("invalid data_offsets [%d,%d]", entry.begin, entry.end)
	}
	if entry.count, err = elementCount(entry.shape); err != nil {
		return entry, err
	}
	return entry, nil
}

type unsupportedDtypeError struct{ dtype, name string }

func (e unsupportedDtypeError) Error() string {
	return fmt.Sprintf("unsupported dtype %s for tensor %s; genmodel reads F32, F16 and BF16",
		displayName(e.dtype), displayName(e.name))
}

// checkLayout enforces the upstream rule that tensors, sorted by offset,
// tile the data buffer exactly: no overlap, no gap, nothing left over.
// On success entries are sorted in data-offset order.
func checkLayout(entries []tensorEntry, bufferLen int64) error {
	for _, e := range entries {
		if e.end > bufferLen {
			return fmt.Errorf("tensor %s: data_offsets [%d,%d] exceed data buffer of %d bytes",
				displayName(e.name), e.begin, e.end, bufferLen)
		}
		// elementCount guarantees count*maxElemSize does not overflow.
		want := int64(e.count) * int64(elementSize(e.dtype))
		if e.end-e.begin != want {
			return fmt.Errorf("tensor %s: data_offsets [%d,%d] do not match shape %s in %s (want %d bytes)",
				displayName(e.name), e.begin, e.end, formatShape(e.shape), e.dtype, want)
		}
	}
	// Stable so that zero-size tensors sharing an offset keep header order,
	// which keeps decode -> encode -> decode a fixed point.
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var next int64
	for i, e := range entries {
		switch {
		case e.begin < next:
			return fmt.Errorf("tensor %s: data_offsets [%d,%d] overlap tensor %s",
				displayName(e.name), e.begin, e.end, displayName(entries[i-1].name))
		case e.begin > next:
			return fmt.Errorf("data buffer has unused bytes [%d,%d) before tensor %s",
				next, e.begin, displayName(e.name))
		}
		next = e.end
	}
	if next != bufferLen {
		return fmt.Errorf("data buffer has %d trailing bytes after the last tensor", bufferLen-next)
	}
	return nil
}

// formatShape renders a shape as JSON, e.g. [2,3]. Long shapes from hostile
// headers are cut short so errors stay one short line.
func formatShape(shape []int) string {
	const maxShown = 8
	var b strings.Builder
	b.WriteByte('[')
	for i, dim := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == maxShown {
			fmt.Fprintf(&b, "...%d more", len(shape)-maxShown)
			break
		}
		b.WriteString(strconv.Itoa(dim))
	}
	b.WriteByte(']')
	return b.String()
}

// displayName makes a name from a possibly hostile file safe to embed in a
// one-line error: long names are truncated and names with spaces or
// unprintable characters are quoted.
func displayName(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	if s == "" || strings.IndexFunc(s, func(r rune) bool {
		return r == utf8.RuneError || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	}) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// WriteFile atomically replaces path with a safetensors file holding
// tensors and metadata; see atomicfile.Write.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		return Encode(w, tensors, metadata)
	})
}

// ReadFile decodes the safetensors file at path.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // already names the path
	}
	f, err := decodeBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a safetensors file: %w", path, err)
	}
	return f, nil
}
