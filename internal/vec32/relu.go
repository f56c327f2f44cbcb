package vec32

import "math"

// LeakyReLU writes y = x where x > 0 and slope*x elsewhere (zero, negative
// or -0: PyTorch's choice at 0), for each element of x; slope 0 is ReLU.
// Each element is x times a factor of 1 or slope, so the kernels, which
// choose the factor by a compare, give the Go loop's bits, for every x but
// a NaN without the sign bit (the kernels take slope for every NaN, as
// PyTorch's x > 0 test does; the Go loop reads the sign bit).
func LeakyReLU(x, y []float32, slope float32) { leaky(x, x, y, slope) }

// LeakyReLUGrad writes dx = dy where x > 0 and slope*dy elsewhere, the
// gradient of LeakyReLU at x.
func LeakyReLUGrad(x, dy, dx []float32, slope float32) { leaky(x, dy, dx, slope) }

// leaky is leakyGo through the widest kernels the CPU has.
func leaky(x, in, out []float32, slope float32) {
	n := len(x)
	in, out = in[:n], out[:n]
	done := 0
	if useAVX512 && n >= 16 {
		done = n &^ 15
		leakyAVX512(&x[0], &in[0], &out[0], done, slope)
	}
	if k := (n - done) &^ 7; useAsm && k > 0 {
		leakyAVX2(&x[done], &in[done], &out[done], k, slope)
		done += k
	}
	leakyGo(x[done:], in[done:], out[done:], slope)
}

// leakyGo writes out[i] = in[i] * (1 if x[i] > 0, else slope): LeakyReLU
// with in = x, its gradient with in = dy. The factor is picked by x's
// bits, not a branch: activations' signs are random, and a mispredicted
// branch per element cost a tenth of a DCGAN step.
func leakyGo(x, in, out []float32, slope float32) {
	in, out = in[:len(x)], out[:len(x)]
	factor := [2]float32{1, slope}
	for i, v := range x {
		out[i] = in[i] * factor[notPositive(v)]
	}
}

// notPositive is 0 when v > 0 and 1 otherwise (zero, negative or -0; a NaN
// counts by its sign bit), with no branch: the sign bit, or the borrow of
// bits-1 when all bits are 0.
func notPositive(v float32) int {
	bits := math.Float32bits(v)
	return int((bits>>31)|((bits-1)>>31)) & 1
}

// AffineReLU writes y = relu(x*a + b), a product then a sum as in Affine,
// negative results and -0 set to +0 by their sign bit (no branch).
func AffineReLU(x, y []float32, a, b float32) {
	y = y[:len(x)]
	n := 0
	if useAVX512 && len(x) >= 16 {
		n = len(x) &^ 15
		affineReLUAVX512(&x[0], &y[0], n, a, b)
	}
	if k := (len(x) - n) &^ 7; useAsm && k > 0 {
		affineReLUAVX2(&x[n], &y[n], k, a, b)
		n += k
	}
	affineReLUGo(x[n:], y[n:], a, b)
}

func affineReLUGo(x, y []float32, a, b float32) {
	y = y[:len(x)]
	for i, v := range x {
		// The conversion keeps the product rounded on its own: Go may
		// otherwise fuse it with the sum, which the kernels do not.
		bits := math.Float32bits(float32(v*a) + b)
		y[i] = math.Float32frombits(bits &^ uint32(int32(bits)>>31))
	}
}

// ReLUGrad writes dx = dy*s where y is positive and +0 where y is +0: the
// input gradient of relu(s*x + b) from its output y (+0 or positive) and
// the output's gradient dy.
func ReLUGrad(y, dy, dx []float32, s float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	n := 0
	if useAVX512 && len(y) >= 16 {
		n = len(y) &^ 15
		reluGradAVX512(&y[0], &dy[0], &dx[0], n, s)
	}
	if k := (len(y) - n) &^ 7; useAsm && k > 0 {
		reluGradAVX2(&y[n], &dy[n], &dx[n], k, s)
		n += k
	}
	reluGradGo(y[n:], dy[n:], dx[n:], s)
}

func reluGradGo(y, dy, dx []float32, s float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]*s) & ActiveMask(v))
	}
}

// ActiveMask is all ones where a ReLU output y (+0 or positive) is
// positive, else 0: the mask of the units that pass a gradient.
func ActiveMask(y float32) uint32 {
	return uint32(int32(-math.Float32bits(y)) >> 31)
}
