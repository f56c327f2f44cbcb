package safetensors

import "math"

// Conversions between float32 and the two 16-bit float formats that
// safetensors files commonly hold: IEEE 754 binary16 ("F16": 1 sign bit,
// 5 exponent bits, 10 mantissa bits) and bfloat16 ("BF16": the top 16 bits
// of a float32, so 8 exponent bits and 7 mantissa bits).
//
// They are written out here rather than taken from a library because they
// are short, the rounding must be exactly IEEE round-to-nearest-even (what
// PyTorch and the F16C instructions do) so that files written here match
// files written elsewhere, and NaN payloads must survive a round trip so
// that decode -> encode reproduces a file bit for bit.
//
// Widening (16 -> 32 bits) is exact for both formats. Narrowing rounds to
// nearest with ties to even; a NaN stays a NaN, keeping the sign and as much
// of the payload as fits, and gets the quiet bit only when what fits would
// otherwise read as infinity.

const (
	f32MantBits = 23
	f32ExpBias  = 127
	f16MantBits = 10
	f16ExpBias  = 15
	f16ExpMask  = 0x7c00
	f16MantMask = 0x03ff
	f16Quiet    = 0x0200 // the top mantissa bit, which marks a quiet NaN
	bf16Quiet   = 0x0040
)

// f16ToF32 widens an IEEE half to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h&f16ExpMask) >> f16MantBits
	mant := uint32(h & f16MantMask)
	switch {
	case exp == 0x1f: // infinity or NaN; the payload moves to the top bits
		return math.Float32frombits(sign | 0x7f800000 | mant<<(f32MantBits-f16MantBits))
	case exp != 0: // normal: rebias the exponent
		return math.Float32frombits(sign | (exp+f32ExpBias-f16ExpBias)<<f32MantBits | mant<<(f32MantBits-f16MantBits))
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: mant * 2^-24, which float32 represents exactly as a
	// normal number; the conversion of a small integer and the scaling by
	// a power of two are both exact.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// f32ToF16 narrows f to the nearest IEEE half, ties to even. Values whose
// magnitude rounds past the largest half (65504), i.e. from 65520 up,
// become infinities; values too small for the smallest subnormal (2^-24)
// round to a signed zero or to that subnormal.
func f32ToF16(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>f32MantBits) & 0xff
	mant := bits & (1<<f32MantBits - 1)

	if exp == 0xff { // infinity or NaN
		if mant == 0 {
			return sign | f16ExpMask
		}
		m := uint16(mant >> (f32MantBits - f16MantBits))
		if m == 0 {
			m = f16Quiet // the payload's kept bits are all zero: stay a NaN
		}
		return sign | f16ExpMask | m
	}

	e := exp - f32ExpBias + f16ExpBias // the half's biased exponent
	if e >= 0x1f {
		return sign | f16ExpMask // at least 2^16: beyond every finite half
	}
	if e >= 1 {
		// Normal half: drop 13 mantissa bits, rounding to nearest even.
		// A carry out of the mantissa correctly bumps the exponent, and
		// from the largest finite half it lands exactly on infinity.
		const drop = f32MantBits - f16MantBits
		h := uint32(e)<<f16MantBits | mant>>drop
		h += roundUp(mant, drop, h)
		return sign | uint16(h)
	}
	if exp == 0 {
		// Zero or a float32 subnormal: below 2^-126, far under half the
		// smallest half subnormal, so a signed zero.
		return sign
	}
	// Subnormal half (or zero): the value is sig * 2^(exp-127-23) with the
	// implicit bit restored; in units of the smallest half subnormal 2^-24
	// that is sig >> shift.
	sig := mant | 1<<f32MantBits
	shift := uint(f32MantBits - f16MantBits + 1 - e) // >= 14 since e <= 0
	if shift > f32MantBits+1 {
		return sign // below 2^-25, under half the smallest subnormal
	}
	h := sig >> shift
	h += roundUp(sig, shift, h)
	// h == 0x400 after a carry is the smallest normal half, correctly.
	return sign | uint16(h)
}

// roundUp returns 1 when the low n bits of x, about to be dropped from the
// kept value kept, call for rounding up under round-to-nearest-even: more
// than half a unit, or exactly half and kept is odd.
func roundUp(x uint32, n uint, kept uint32) uint32 {
	rem := x & (1<<n - 1)
	half := uint32(1) << (n - 1)
	if rem > half || (rem == half && kept&1 == 1) {
		return 1
	}
	return 0
}

// bf16ToF32 widens a bfloat16 to float32 exactly: it is the top half.
func bf16ToF32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// f32ToBF16 narrows f to the nearest bfloat16, ties to even. The exponent
// range is float32's, so only values within half a unit of the largest
// finite float32 overflow to infinity, and subnormals round like any other
// value.
func f32ToBF16(f float32) uint16 {
	bits := math.Float32bits(f)
	if bits&0x7fffffff > 0x7f800000 { // NaN
		b := uint16(bits >> 16)
		if b&0x7f == 0 {
			b |= bf16Quiet // the kept payload bits are zero: stay a NaN
		}
		return b
	}
	// Adding just under half a unit, plus one more when the kept part is
	// odd, carries into the kept bits exactly when round-to-nearest-even
	// rounds up. A carry through the exponent reaches infinity correctly.
	return uint16((bits + 0x7fff + (bits>>16)&1) >> 16)
}
