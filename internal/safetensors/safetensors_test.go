package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawFile assembles a file from a literal header and data buffer, so tests
// can describe malformed files that Encode would refuse to produce.
func rawFile(header string, buffer []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, buffer...)
}

// lengthOnly is a file whose header length field is n, followed by tail.
func lengthOnly(n uint64, tail int) []byte {
	out := binary.LittleEndian.AppendUint64(nil, n)
	return append(out, make([]byte, tail)...)
}

// sameTensors compares by bit pattern so NaN payloads and -0 count. DType
// "" and "F32" are the same.
func sameTensors(t *testing.T, got, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name {
			t.Errorf("tensor %d: name %q, want %q", i, g.Name, w.Name)
		}
		if formatShape(g.Shape) != formatShape(w.Shape) {
			t.Errorf("tensor %q: shape %v, want %v", w.Name, g.Shape, w.Shape)
		}
		if storedDType(g.DType) != storedDType(w.DType) {
			t.Errorf("tensor %q: dtype %q, want %q", w.Name, g.DType, w.DType)
		}
		if len(g.Data) != len(w.Data) {
			t.Errorf("tensor %q: %d values, want %d", w.Name, len(g.Data), len(w.Data))
			continue
		}
		for j := range w.Data {
			if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Errorf("tensor %q: Data[%d] = %v, want %v", w.Name, j, g.Data[j], w.Data[j])
				break
			}
		}
	}
}

func sameMetadata(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("metadata %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, got[k], v)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
	}{
		{name: "empty file"},
		{
			name: "mixed shapes",
			tensors: []Tensor{
				{Name: "encoder.0.weight", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
				{Name: "scalar", Shape: []int{}, Data: []float32{-0.25}},
				{Name: "empty", Shape: []int{0, 3}, Data: []float32{}},
				{Name: "specials", Shape: []int{5}, Data: []float32{
					float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
					float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32}},
			},
			metadata: map[string]string{"format": "pt", "note": "naïve ✓ 日本語", "": "empty key"},
		},
		{
			name: "order is preserved, not sorted",
			tensors: []Tensor{
				{Name: "z", Shape: []int{1}, Data: []float32{1}},
				{Name: "a", Shape: []int{1}, Data: []float32{2}},
			},
		},
		{
			name: "names needing JSON escapes",
			tensors: []Tensor{
				{Name: "quote\" back\\slash <tag> \n", Shape: []int{1}, Data: []float32{7}},
			},
			metadata: map[string]string{"k\"": "v\t"},
		},
		{
			name: "nil shape is a scalar",
			tensors: []Tensor{
				{Name: "s", Data: []float32{3}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, tt.tensors, tt.metadata); err != nil {
				t.Fatalf("Encode: %v", err)
			}
			headerLen := binary.LittleEndian.Uint64(buf.Bytes())
			if (8+headerLen)%8 != 0 {
				t.Errorf("data buffer starts at %d, not 8-byte aligned", 8+headerLen)
			}
			f, err := Decode(&buf)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			sameTensors(t, f.Tensors, tt.tensors)
			sameMetadata(t, f.Metadata, tt.metadata)
			if f.Metadata == nil {
				t.Error("Metadata is nil, want an empty map")
			}
		})
	}
}

func TestEncodeExactBytes(t *testing.T) {
	tensors := []Tensor{
		{Name: "a", Shape: []int{2}, Data: []float32{1, -2}},
		{Name: "b", Shape: []int{}, Data: []float32{0.5}},
	}
	header := `{"__metadata__":{"k":"v"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}` +
		"    " // 132 bytes of JSON padded to 136
	var want []byte
	want = append(want, 136, 0, 0, 0, 0, 0, 0, 0)
	want = append(want, header...)
	want = append(want,
		0x00, 0x00, 0x80, 0x3f, // 1.0
		0x00, 0x00, 0x00, 0xc0, // -2.0
		0x00, 0x00, 0x00, 0x3f, // 0.5
	)

	var buf bytes.Buffer
	if err := Encode(&buf, tensors, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Encode wrote\n%q\nwant\n%q", buf.Bytes(), want)
	}
}

// TestEncodeExactBytes16 pins the layout of 16-bit tensors: two bytes per
// value, little-endian, offsets counted in bytes.
func TestEncodeExactBytes16(t *testing.T) {
	tensors := []Tensor{
		{Name: "h", Shape: []int{2}, Data: []float32{1, -2}, DType: "F16"},
		{Name: "b", Shape: []int{}, Data: []float32{0.5}, DType: "BF16"},
		{Name: "f", Shape: []int{1}, Data: []float32{1}, DType: "F32"},
	}
	header := `{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},` +
		`"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]},` +
		`"f":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}` +
		"       " // 161 bytes of JSON padded to 168
	var want []byte
	want = append(want, 168, 0, 0, 0, 0, 0, 0, 0)
	want = append(want, header...)
	want = append(want,
		0x00, 0x3c, // 1.0 as F16
		0x00, 0xc0, // -2.0 as F16
		0x00, 0x3f, // 0.5 as BF16
		0x00, 0x00, 0x80, 0x3f, // 1.0 as F32, not aligned: the format allows it
	)
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Encode wrote\n%q\nwant\n%q", buf.Bytes(), want)
	}
}

// TestRoundTripMixedDTypes encodes a file mixing F32, F16 and BF16
// tensors. Values each dtype represents exactly come back bit-identical
// (signed zeros, infinities, subnormals, NaN payloads); others come back
// rounded to nearest even; DType is kept, so decode -> encode -> decode is
// a fixed point, byte for byte.
func TestRoundTripMixedDTypes(t *testing.T) {
	nan16 := f16ToF32(0x7e01)  // a quiet NaN with a payload F16 holds
	nanBF := bf16ToF32(0xff81) // a negative signalling NaN BF16 holds
	tests := []struct {
		name    string
		tensors []Tensor
		want    [][]float32 // decoded Data; nil: as given
	}{
		{
			name: "exactly representable",
			tensors: []Tensor{
				{Name: "f32", Shape: []int{3}, Data: []float32{0.1, math.MaxFloat32, math.SmallestNonzeroFloat32}, DType: "F32"},
				{Name: "f16", Shape: []int{2, 5}, Data: []float32{
					1, -2, 65504, -65504, 1.0 / (1 << 24), // max half, smallest subnormal
					float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), nan16, 1023.0 / (1 << 24)}, DType: "F16"},
				{Name: "bf16", Shape: []int{2, 3}, Data: []float32{
					1, -3.5, math.Float32frombits(0x7f7f0000), math.Float32frombits(0x00010000), nanBF, float32(math.Inf(-1))}, DType: "BF16"},
				{Name: "default", Shape: []int{}, Data: []float32{0.1}}, // "" is F32
				{Name: "empty16", Shape: []int{0}, Data: []float32{}, DType: "F16"},
			},
		},
		{
			name: "rounded",
			tensors: []Tensor{
				{Name: "f16", Shape: []int{6}, Data: []float32{0.1, 65520, 1 + 1.0/(1<<11), 1.0 / (1 << 25), 1e-30, -1e6}, DType: "F16"},
				{Name: "bf16", Shape: []int{3}, Data: []float32{0.1, 1 + 1.0/(1<<8), math.MaxFloat32}, DType: "BF16"},
			},
			want: [][]float32{
				{f16ToF32(0x2e66), float32(math.Inf(1)), 1, 0, 0, float32(math.Inf(-1))},
				{bf16ToF32(0x3dcd), 1, float32(math.Inf(1))},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first bytes.Buffer
			if err := Encode(&first, tt.tensors, map[string]string{"k": "v"}); err != nil {
				t.Fatal(err)
			}
			encoded := append([]byte(nil), first.Bytes()...)
			f, err := Decode(&first)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]Tensor, len(tt.tensors))
			copy(want, tt.tensors)
			for i := range want {
				if tt.want != nil {
					want[i].Data = tt.want[i]
				}
				if f.Tensors[i].DType != storedDType(want[i].DType) {
					t.Errorf("tensor %s: decoded DType %q, want %q", want[i].Name, f.Tensors[i].DType, storedDType(want[i].DType))
				}
			}
			sameTensors(t, f.Tensors, want)

			var second bytes.Buffer
			if err := Encode(&second, f.Tensors, f.Metadata); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(second.Bytes(), encoded) {
				t.Errorf("decode -> encode changed the file:\n%q\n%q", second.Bytes(), encoded)
			}
			g, err := Decode(&second)
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, g.Tensors, f.Tensors)
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	ok := Tensor{Name: "ok", Shape: []int{1}, Data: []float32{1}}
	tests := []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
		wantErr  string
	}{
		{"duplicate name", []Tensor{ok, ok}, nil, "duplicate tensor name ok"},
		{"empty name", []Tensor{{Name: "", Shape: []int{1}, Data: []float32{1}}}, nil, "empty name"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}}, nil, "reserved"},
		{"too few values", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: make([]float32, 5)}}, nil,
			"tensor w: shape [2,3] needs 6 values, have 5"},
		{"too many values", []Tensor{{Name: "w", Shape: []int{0, 3}, Data: make([]float32, 1)}}, nil,
			"needs 0 values, have 1"},
		{"negative dimension", []Tensor{{Name: "w", Shape: []int{-1, -1}, Data: make([]float32, 1)}}, nil,
			"negative dimension -1"},
		{"overflowing shape", []Tensor{{Name: "w", Shape: []int{1 << 40, 1 << 40}}}, nil, "too many elements"},
		{"invalid UTF-8 name", []Tensor{{Name: "\xff", Shape: []int{}, Data: []float32{1}}}, nil, "not valid UTF-8"},
		{"invalid UTF-8 metadata", []Tensor{ok}, map[string]string{"k": "\xfe"}, "not valid UTF-8"},
		{"unsupported dtype", []Tensor{ok, {Name: "w", Shape: []int{1}, Data: []float32{1}, DType: "F64"}}, nil,
			"tensor w: unsupported dtype F64; genmodel writes F32, F16 and BF16"},
		{"lower-case dtype", []Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}, DType: "f16"}}, nil,
			"unsupported dtype f16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tt.tensors, tt.metadata)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Encode error = %v, want it to contain %q", err, tt.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// hostileInputs are files Decode must reject, with the error each gives;
// FuzzDecode starts from them too.
func hostileInputs() []struct {
	name    string
	input   []byte
	wantErr string
} {
	four := make([]byte, 4)
	return []struct {
		name    string
		input   []byte
		wantErr string
	}{
		{"empty input", nil, "file is 0 bytes, too short"},
		{"7 bytes", make([]byte, 7), "file is 7 bytes, too short"},
		{"header length 0", lengthOnly(0, 10), "header length 0 is too small"},
		{"header length 1", rawFile("{", nil), "header length 1 is too small"},
		{"header length larger than file", lengthOnly(9999999, 112), "header length 9999999 exceeds file size 120"},
		{"header length just past end", lengthOnly(5, 4), "header length 5 exceeds file size 12"},
		{"header length huge", lengthOnly(1<<62, 8), "exceeds the 100000000-byte limit"},
		{"header length all ones", lengthOnly(math.MaxUint64, 8), "exceeds the 100000000-byte limit"},
		{"non-JSON header", rawFile("not json", nil), "header is not a JSON object"},
		{"truncated JSON", rawFile(`{"a":{"dtype":"F32"`, nil), "header is not valid JSON"},
		{"JSON array header", rawFile("[]      ", nil), "header is not a JSON object"},
		{"leading space", rawFile(" {}", nil), "header is not a JSON object"},
		{"data after object", rawFile("{} {}", nil), "data after the JSON object"},
		{"invalid UTF-8", rawFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"entry not an object", rawFile(`{"x":3}`, nil), "tensor x: header entry is not an object"},
		{"empty tensor name", rawFile(`{"":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, four), "empty name"},
		{"missing dtype", rawFile(`{"x":{"shape":[1],"data_offsets":[0,4]}}`, four), "tensor x: missing dtype"},
		{"missing shape", rawFile(`{"x":{"dtype":"F32","data_offsets":[0,4]}}`, four), "tensor x: missing shape"},
		{"missing offsets", rawFile(`{"x":{"dtype":"F32","shape":[1]}}`, four), "tensor x: missing data_offsets"},
		{"field names are case-sensitive", rawFile(`{"x":{"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			"tensor x: missing dtype"},
		{"dtype I64", rawFile(`{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)),
			"unsupported dtype I64 for tensor x; genmodel reads F32, F16 and BF16"},
		{"dtype F64", rawFile(`{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)),
			"unsupported dtype F64 for tensor x"},
		{"dtype names are case-sensitive", rawFile(`{"x":{"dtype":"f16","shape":[2],"data_offsets":[0,4]}}`, four),
			"unsupported dtype f16 for tensor x"},
		{"hostile dtype is quoted", rawFile(`{"x":{"dtype":"F 16\n","shape":[2],"data_offsets":[0,4]}}`, four),
			`unsupported dtype "F 16\n" for tensor x`},
		{"F16 offsets sized for F32", rawFile(`{"x":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)),
			"tensor x: data_offsets [0,8] do not match shape [2] in F16 (want 4 bytes)"},
		{"F16 offsets one element short", rawFile(`{"x":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}`, four),
			"tensor x: data_offsets [0,4] do not match shape [3] in F16 (want 6 bytes)"},
		{"F16 odd byte count", rawFile(`{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,3]}}`, make([]byte, 3)),
			"tensor x: data_offsets [0,3] do not match shape [1] in F16 (want 2 bytes)"},
		{"BF16 offsets not matching shape", rawFile(`{"x":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,4]}}`, four),
			"tensor x: data_offsets [0,4] do not match shape [2,2] in BF16 (want 8 bytes)"},
		{"F32 offsets sized for F16", rawFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four),
			"do not match shape [2] in F32 (want 8 bytes)"},
		{"F16 tensor ends past the buffer", rawFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}`, four),
			"tensor b: data_offsets [4,6] exceed data buffer of 4 bytes"},
		{"F16 and F32 overlapping", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[2,4]}}`, four),
			"tensor b: data_offsets [2,4] overlap tensor a"},
		{"dtype not a string", rawFile(`{"x":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, four), "dtype is not a string"},
		{"shape null", rawFile(`{"x":{"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, four), "shape is not an array"},
		{"shape fractional", rawFile(`{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, four), "tensor x: shape:"},
		{"negative dim", rawFile(`{"x":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}`, make([]byte, 16)),
			"tensor x: negative dimension -1 in shape [-1,-4]"},
		{"shape product overflow", rawFile(`{"x":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}`, four),
			"tensor x: shape [1099511627776,1099511627776] has too many elements"},
		{"shape dim beyond int64", rawFile(`{"x":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}}`, four), "tensor x: shape:"},
		{"offsets wrong count", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, four),
			"data_offsets has 3 values, want 2"},
		{"offsets reversed", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, four), "invalid data_offsets [4,0]"},
		{"offsets negative", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, four), "invalid data_offsets [-4,0]"},
		{"offsets not matching shape", rawFile(`{"encoder.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12]}}`, make([]byte, 12)),
			"tensor encoder.0.weight: data_offsets [0,12] do not match shape [2,3] in F32 (want 24 bytes)"},
		{"offsets out of range", rawFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four),
			"tensor x: data_offsets [0,8] exceed data buffer of 4 bytes"},
		{"offsets overlapping", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			"tensor b: data_offsets [4,8] overlap tensor a"},
		{"same offsets twice", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			"overlap"},
		{"gap in buffer", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)),
			"data buffer has unused bytes [4,8) before tensor b"},
		{"gap at start", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
			"unused bytes [0,4) before tensor a"},
		{"trailing bytes", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 7)),
			"data buffer has 3 trailing bytes after the last tensor"},
		{"trailing bytes without tensors", rawFile(`{}`, four), "4 trailing bytes"},
		{"duplicate tensor key", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			"duplicate key x in header"},
		{"duplicate key via escape", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u0078":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, four),
			"duplicate key x in header"},
		{"duplicate field in entry", rawFile(`{"x":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}`, four),
			"tensor x: duplicate field shape"},
		{"duplicate __metadata__", rawFile(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate key __metadata__"},
		{"__metadata__ array", rawFile(`{"__metadata__":["a"]}`, nil), "__metadata__ is not an object"},
		{"__metadata__ null", rawFile(`{"__metadata__":null}`, nil), "__metadata__ is not an object"},
		{"__metadata__ number value", rawFile(`{"__metadata__":{"epoch":3}}`, nil), "__metadata__ value for key epoch is not a string"},
		{"__metadata__ nested value", rawFile(`{"__metadata__":{"cfg":{"a":"b"}}}`, nil), "value for key cfg is not a string"},
		{"__metadata__ duplicate key", rawFile(`{"__metadata__":{"a":"1","a":"2"}}`, nil), "duplicate key a in __metadata__"},
		{"hostile name is quoted", rawFile("{\"a b\\n\":{\"dtype\":\"F32\"}}", nil), `tensor "a b\n": missing shape`},
	}
}

func TestDecodeRejectsHostileInput(t *testing.T) {
	for _, tt := range hostileInputs() {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(bytes.NewReader(tt.input))
			if err == nil {
				t.Fatalf("Decode succeeded with %d tensors, want error containing %q", len(f.Tensors), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decode error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Decode error spans lines: %q", err)
			}
		})
	}
}

// upstreamVariants are files that other writers may produce, which Decode
// must accept, with their tensors' names in data-offset order; FuzzDecode
// starts from them too.
func upstreamVariants() []struct {
	name      string
	input     []byte
	wantNames []string
} {
	return []struct {
		name      string
		input     []byte
		wantNames []string
	}{
		{"minimal empty header", rawFile("{}", nil), nil},
		{"whitespace everywhere", rawFile(`{ "x" : { "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] } }  `, make([]byte, 4)), []string{"x"}},
		{"unpadded header", rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{"x"}},
		{"unknown fields ignored", rawFile(`{"x":{"dtype":"F32","extra":[{"deep":true}],"shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{"x"}},
		{"header order differs from offset order", rawFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)),
			[]string{"a", "b"}},
		{"zero-size tensors sharing an offset", rawFile(`{"e2":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"e1":{"dtype":"F32","shape":[3,0],"data_offsets":[0,0]}}`, make([]byte, 4)),
			[]string{"e2", "e1", "a"}},
		{"16-bit dtypes, odd offsets", rawFile(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"f":{"dtype":"F32","shape":[1],"data_offsets":[2,6]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[6,8]}}`, make([]byte, 8)),
			[]string{"h", "f", "b"}},
	}
}

func TestDecodeAcceptsUpstreamVariants(t *testing.T) {
	for _, tt := range upstreamVariants() {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(bytes.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var names []string
			for _, tensor := range f.Tensors {
				names = append(names, tensor.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("tensors %v, want %v", names, tt.wantNames)
			}
		})
	}
}

func TestDecodedTensorsDoNotShareCapacity(t *testing.T) {
	var buf bytes.Buffer
	err := Encode(&buf, []Tensor{
		{Name: "a", Shape: []int{1}, Data: []float32{1}},
		{Name: "b", Shape: []int{1}, Data: []float32{2}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(f.Tensors[0].Data, 99)
	if f.Tensors[1].Data[0] != 2 {
		t.Errorf("appending to tensor a changed tensor b to %v", f.Tensors[1].Data[0])
	}
}

func TestLookup(t *testing.T) {
	f := &File{Tensors: []Tensor{
		{Name: "w", Shape: []int{1}, Data: []float32{1}},
		{Name: "b", Shape: []int{1}, Data: []float32{2}},
	}}
	tests := []struct {
		name   string
		wantOK bool
		want   float32
	}{
		{"w", true, 1},
		{"b", true, 2},
		{"missing", false, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		got, ok := f.Lookup(tt.name)
		if ok != tt.wantOK {
			t.Errorf("Lookup(%q) ok = %v, want %v", tt.name, ok, tt.wantOK)
			continue
		}
		if ok && got.Data[0] != tt.want {
			t.Errorf("Lookup(%q) = %v, want %v", tt.name, got.Data[0], tt.want)
		}
	}
	// Lookup returns a pointer into the file so callers can update in place.
	got, _ := f.Lookup("b")
	got.Data = []float32{5}
	if f.Tensors[1].Data[0] != 5 {
		t.Error("Lookup returned a copy, want a pointer into f.Tensors")
	}
}

// FuzzDecode feeds Decode arbitrary bytes. It must not panic, must fail
// with a one-line error, and must not decode more values than the data
// could hold; what it accepts must re-encode, decode again to the same
// tensors (names, shapes, dtypes, value bits) and metadata, and encode
// again to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, tensors := range [][]Tensor{
		nil,
		{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}},
		{{Name: "s", Shape: []int{}, Data: []float32{1}}, {Name: "e", Shape: []int{0}, Data: []float32{}}},
		{
			{Name: "h", Shape: []int{3}, Data: []float32{1, float32(math.Inf(-1)), 1.0 / (1 << 24)}, DType: "F16"},
			{Name: "f", Shape: []int{1}, Data: []float32{0.1}, DType: "F32"},
			{Name: "b", Shape: []int{2}, Data: []float32{-2, float32(math.NaN())}, DType: "BF16"},
		},
	} {
		var buf bytes.Buffer
		if err := Encode(&buf, tensors, map[string]string{"k": "v"}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, tt := range hostileInputs() {
		f.Add(tt.input)
	}
	for _, tt := range upstreamVariants() {
		f.Add(tt.input)
	}
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.safetensors"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures in %s: %v", fixtureDir, err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, input []byte) {
		first, err := Decode(bytes.NewReader(input))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			return
		}
		values := 0
		for _, tensor := range first.Tensors {
			if elementSize(tensor.DType) == 0 {
				t.Errorf("tensor %q decoded with dtype %q", tensor.Name, tensor.DType)
			}
			values += len(tensor.Data)
		}
		if values > len(input)/2 {
			t.Errorf("%d values decoded from %d bytes", values, len(input))
		}
		var buf bytes.Buffer
		if err := Encode(&buf, first.Tensors, first.Metadata); err != nil {
			t.Fatalf("decoded file does not re-encode: %v", err)
		}
		encoded := append([]byte(nil), buf.Bytes()...)
		second, err := Decode(&buf)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		sameTensors(t, second.Tensors, first.Tensors)
		sameMetadata(t, second.Metadata, first.Metadata)
		var again bytes.Buffer
		if err := Encode(&again, second.Tensors, second.Metadata); err != nil {
			t.Fatalf("second encode: %v", err)
		}
		if !bytes.Equal(again.Bytes(), encoded) {
			t.Errorf("encode -> decode -> encode is not a fixed point")
		}
	})
}
