package vec32

import "math"

// SiLU writes s = sigmoid(x) and y = x*s for each element of x (s and y of
// x's length). sigmoid is 1/(1+exp(-x)) with Exp's approximation.
func SiLU(x, s, y []float32) {
	n := len(x)
	s, y = s[:n], y[:n]
	done := 0
	if useAVX512 && n >= 16 {
		done = n &^ 15
		siluAVX512(&x[0], &s[0], &y[0], done)
	}
	if k := (n - done) &^ 7; useAsm && k > 0 {
		siluAVX2(&x[done], &s[done], &y[done], k)
		done += k
	}
	siluGo(x[done:], s[done:], y[done:])
}

// SiLUGrad writes dx = dy * s * (1 + x*(1-s)), SiLU's derivative, from x,
// s = sigmoid(x) and dy.
func SiLUGrad(x, s, dy, dx []float32) {
	n := len(x)
	s, dy, dx = s[:n], dy[:n], dx[:n]
	done := 0
	if useAVX512 && n >= 16 {
		done = n &^ 15
		siluGradAVX512(&x[0], &s[0], &dy[0], &dx[0], done)
	}
	if k := (n - done) &^ 7; useAsm && k > 0 {
		siluGradAVX2(&x[done], &s[done], &dy[done], &dx[done], k)
		done += k
	}
	siluGradGo(x[done:], s[done:], dy[done:], dx[done:])
}

func siluGo(x, s, y []float32) {
	s, y = s[:len(x)], y[:len(x)]
	for i, v := range x {
		si := 1 / (1 + Exp(-v))
		s[i] = si
		y[i] = v * si
	}
}

func siluGradGo(x, s, dy, dx []float32) {
	s, dy, dx = s[:len(x)], dy[:len(x)], dx[:len(x)]
	for i, v := range x {
		si := s[i]
		dx[i] = dy[i] * si * (1 + v*(1-si))
	}
}

// Exp is e^x in float32 arithmetic, within 2 ulp of the rounded exact value
// for x in [-87, 88] (inputs outside are clamped there: the result then
// saturates near 1.6e-38 or 1.6e38 instead of reaching 0 or +Inf; NaN is not
// handled). It is the Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2,
// and Cephes' degree-6 polynomial for e^r, without branches; the SiLU
// kernel computes the same operations eight at a time.
func Exp(x float32) float32 {
	x = max(min(x, expHi), expLo)
	k := x*log2e + roundMagic
	k -= roundMagic
	r := x - k*ln2Hi
	r -= k * ln2Lo
	p := float32(expC0)
	p = p*r + expC1
	p = p*r + expC2
	p = p*r + expC3
	p = p*r + expC4
	p = p*r + expC5
	e := p*r*r + r + 1
	// Multiply by 2^k by adding k to the exponent field.
	return math.Float32frombits(math.Float32bits(e) + uint32(int32(k))<<23)
}

// Exp's constants; the assembly has the same values.
const (
	expHi      = 88
	expLo      = -87
	log2e      = 1.44269504088896341
	ln2Hi      = 0.693359375
	ln2Lo      = -2.12194440e-4
	roundMagic = 12582912 // 1.5 * 2^23: adding and subtracting it rounds to an integer
	expC0      = 1.9875691500e-4
	expC1      = 1.3981999507e-3
	expC2      = 8.3334519073e-3
	expC3      = 4.1665795894e-2
	expC4      = 1.6666665459e-1
	expC5      = 5.0000001201e-1
)
