package safetensors

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// The oracles below compute 16-bit float values from the definitions of
// the formats with float64 arithmetic, independently of half.go.

// f16Value is the value of a non-negative, non-NaN half bit pattern p
// (0 <= p <= 0x7c00), with infinity counted as 2^16: the value an unbounded
// exponent would give, which is what IEEE rounding of overflows compares
// against.
func f16Value(p uint16) float64 {
	e, m := int(p>>10), float64(p&0x3ff)
	if e == 0 {
		return math.Ldexp(m, -24)
	}
	return math.Ldexp(1024+m, e-25)
}

// bf16Value is f16Value for bfloat16 (0 <= p <= 0x7f80, infinity as 2^128).
func bf16Value(p uint16) float64 {
	e, m := int(p>>7), float64(p&0x7f)
	if e == 0 {
		return math.Ldexp(m, -133)
	}
	return math.Ldexp(128+m, e-134)
}

// nearest returns the bit pattern, among the non-negative patterns
// 0..maxPattern with values value(p), nearest to |x|, ties to the even
// pattern, with x's sign bit set as signBit.
func nearest(x float64, maxPattern uint16, value func(uint16) float64, signBit uint16) uint16 {
	n := int(maxPattern) + 1
	a := math.Abs(x)
	// The largest p with value(p) <= a.
	i := sort.Search(n, func(p int) bool { return value(uint16(p)) > a }) - 1
	best := uint16(i)
	if i+1 < n {
		lo, hi := a-value(uint16(i)), value(uint16(i+1))-a
		if hi < lo || (hi == lo && i%2 == 1) {
			best = uint16(i + 1)
		}
	}
	if math.Signbit(x) {
		best |= signBit
	}
	return best
}

func f16Nearest(x float32) uint16  { return nearest(float64(x), 0x7c00, f16Value, 0x8000) }
func bf16Nearest(x float32) uint16 { return nearest(float64(x), 0x7f80, bf16Value, 0x8000) }

func isF16NaN(h uint16) bool  { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }
func isBF16NaN(b uint16) bool { return b&0x7f80 == 0x7f80 && b&0x7f != 0 }

// TestHalfRoundTripExhaustive widens every one of the 65536 bit patterns of
// each format and narrows it back: the value must be exact and the pattern
// must come back unchanged, NaN payloads included.
func TestHalfRoundTripExhaustive(t *testing.T) {
	tests := []struct {
		name   string
		widen  func(uint16) float32
		narrow func(float32) uint16
		value  func(uint16) float64
		isNaN  func(uint16) bool
		inf    uint16
	}{
		{"F16", f16ToF32, f32ToF16, f16Value, isF16NaN, 0x7c00},
		{"BF16", bf16ToF32, f32ToBF16, bf16Value, isBF16NaN, 0x7f80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failures := 0
			for p := range 1 << 16 {
				h := uint16(p)
				f := tt.widen(h)
				abs := h &^ 0x8000
				switch {
				case tt.isNaN(h):
					if !math.IsNaN(float64(f)) {
						t.Errorf("%#04x (NaN) widened to %v", h, f)
					}
				case abs == tt.inf:
					if !math.IsInf(float64(f), 0) || math.Signbit(float64(f)) != (h&0x8000 != 0) {
						t.Errorf("%#04x (infinity) widened to %v", h, f)
					}
				default:
					want := tt.value(abs)
					if h&0x8000 != 0 {
						want = -want
					}
					if float64(f) != want || math.Signbit(float64(f)) != math.Signbit(want) {
						t.Errorf("%#04x widened to %v, want %v", h, f, want)
					}
				}
				if back := tt.narrow(f); back != h {
					t.Errorf("%#04x -> %v (%#08x) -> %#04x, want the identity", h, f, math.Float32bits(f), back)
				}
				if t.Failed() {
					if failures++; failures > 10 {
						t.Fatal("too many failures")
					}
				}
			}
		})
	}
}

// TestF32ToF16Cases pins the edges of the half range and the halfway cases.
func TestF32ToF16Cases(t *testing.T) {
	ulp := func(x float32) float32 { return math.Nextafter32(x, float32(math.Inf(1))) - x }
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max half", 65504, 0x7bff},
		{"just under the overflow threshold", math.Nextafter32(65520, 0), 0x7bff},
		{"65520 rounds to infinity", 65520, 0x7c00},
		{"-65520 rounds to -infinity", -65520, 0xfc00},
		{"2^16", 65536, 0x7c00},
		{"max float32", math.MaxFloat32, 0x7c00},
		{"infinity", float32(math.Inf(1)), 0x7c00},
		{"-infinity", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal 2^-14", 1.0 / (1 << 14), 0x0400},
		{"largest subnormal", 1023.0 / (1 << 24), 0x03ff},
		{"halfway largest subnormal and smallest normal: even", 1023.5 / (1 << 24), 0x0400},
		{"smallest subnormal 2^-24", 1.0 / (1 << 24), 0x0001},
		{"-2^-24", -1.0 / (1 << 24), 0x8001},
		{"2^-25 is halfway to zero: even", 1.0 / (1 << 25), 0x0000},
		{"-2^-25 keeps its sign", -1.0 / (1 << 25), 0x8000},
		{"just above 2^-25", math.Nextafter32(1.0/(1<<25), 1), 0x0001},
		{"1.5 * 2^-24: even", 1.5 / (1 << 24), 0x0002},
		{"2.5 * 2^-24: even", 2.5 / (1 << 24), 0x0002},
		{"2^-26", 1.0 / (1 << 26), 0x0000},
		{"smallest float32 subnormal", math.SmallestNonzeroFloat32, 0x0000},
		{"1+2^-11 is halfway: even", 1 + 1.0/(1<<11), 0x3c00},
		{"1+3*2^-11 is halfway: even", 1 + 3.0/(1<<11), 0x3c02},
		{"just above 1+2^-11", 1 + 1.0/(1<<11) + ulp(1), 0x3c01},
		{"just below 1+3*2^-11", 1 + 3.0/(1<<11) - ulp(1), 0x3c01},
		{"1+2^-10", 1 + 1.0/(1<<10), 0x3c01},
		{"carry into the exponent", 2 - 1.0/(1<<11), 0x4000},
		{"0.1", 0.1, 0x2e66},
		{"pi", math.Pi, 0x4248},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f32ToF16(tt.in); got != tt.want {
				t.Errorf("f32ToF16(%v) = %#04x, want %#04x", tt.in, got, tt.want)
			}
			if oracle := f16Nearest(tt.in); oracle != tt.want {
				t.Errorf("the oracle gives %#04x for %v: the test case is wrong", oracle, tt.in)
			}
		})
	}
}

func TestF32ToBF16Cases(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3f80},
		{"minus two", -2, 0xc000},
		{"1+2^-8 is halfway: even", 1 + 1.0/(1<<8), 0x3f80},
		{"1+3*2^-8 is halfway: even", 1 + 3.0/(1<<8), 0x3f82},
		{"just above 1+2^-8", math.Nextafter32(1+1.0/(1<<8), 2), 0x3f81},
		{"carry into the exponent", 2 - 1.0/(1<<9), 0x4000},
		{"max finite bfloat16", math.Float32frombits(0x7f7f0000), 0x7f7f},
		{"halfway to infinity rounds up", math.Float32frombits(0x7f7f8000), 0x7f80},
		{"just below halfway to infinity", math.Float32frombits(0x7f7f7fff), 0x7f7f},
		{"max float32", math.MaxFloat32, 0x7f80},
		{"-max float32", -math.MaxFloat32, 0xff80},
		{"infinity", float32(math.Inf(1)), 0x7f80},
		{"smallest float32 subnormal", math.SmallestNonzeroFloat32, 0x0000},
		{"subnormal halfway: even", math.Float32frombits(0x00008000), 0x0000},
		{"subnormal halfway: even up", math.Float32frombits(0x00018000), 0x0002},
		{"subnormal above halfway", math.Float32frombits(0x00008001), 0x0001},
		{"0.1", 0.1, 0x3dcd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f32ToBF16(tt.in); got != tt.want {
				t.Errorf("f32ToBF16(%v) = %#04x, want %#04x", tt.in, got, tt.want)
			}
			if oracle := bf16Nearest(tt.in); oracle != tt.want {
				t.Errorf("the oracle gives %#04x for %v: the test case is wrong", oracle, tt.in)
			}
		})
	}
}

// TestNarrowNaN checks that every kind of float32 NaN stays a NaN of the
// same sign, including those whose payload lies only in the bits that
// narrowing drops.
func TestNarrowNaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7f801fff, 0x7fffffff, 0x7f802000, 0x7f810000} {
		f := math.Float32frombits(bits)
		if h := f32ToF16(f); !isF16NaN(h) || h>>15 != uint16(bits>>31) {
			t.Errorf("f32ToF16(%#08x) = %#04x, want a NaN of the same sign", bits, h)
		}
		if b := f32ToBF16(f); !isBF16NaN(b) || b>>15 != uint16(bits>>31) {
			t.Errorf("f32ToBF16(%#08x) = %#04x, want a NaN of the same sign", bits, b)
		}
	}
}

// TestNarrowIsNearest compares both conversions with the oracle on many
// float32 values: uniformly random bit patterns (every exponent), random
// values in and around the half range, and values exactly halfway between
// neighbouring 16-bit values or one float32 ulp either side.
func TestNarrowIsNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs []float32
	for range 20000 {
		inputs = append(inputs, math.Float32frombits(rng.Uint32()))
		// Exponents from well below the smallest half subnormal to
		// beyond the largest half.
		x := float32(math.Ldexp(1+rng.Float64(), rng.IntN(46)-28))
		if rng.IntN(2) == 0 {
			x = -x
		}
		inputs = append(inputs, x)
		for _, format := range []struct {
			value func(uint16) float64
			inf   int
		}{{f16Value, 0x7c00}, {bf16Value, 0x7f80}} {
			p := uint16(rng.IntN(format.inf))                         // a finite pattern; p+1 may be infinity
			mid := float32((format.value(p) + format.value(p+1)) / 2) // exact: one more bit
			inputs = append(inputs, mid, math.Nextafter32(mid, 0), math.Nextafter32(mid, float32(math.Inf(1))), -mid)
		}
	}
	for _, x := range inputs {
		if math.IsNaN(float64(x)) {
			if !isF16NaN(f32ToF16(x)) || !isBF16NaN(f32ToBF16(x)) {
				t.Fatalf("NaN %#08x did not stay NaN", math.Float32bits(x))
			}
			continue
		}
		if got, want := f32ToF16(x), f16Nearest(x); got != want {
			t.Fatalf("f32ToF16(%v = %#08x) = %#04x, want %#04x", x, math.Float32bits(x), got, want)
		}
		if got, want := f32ToBF16(x), bf16Nearest(x); got != want {
			t.Fatalf("f32ToBF16(%v = %#08x) = %#04x, want %#04x", x, math.Float32bits(x), got, want)
		}
	}
}
