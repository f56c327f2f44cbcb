package vec32

// Kernels of normalization layers (GroupNorm). The sums accumulate in
// float64, in 16 lanes (lane l takes elements i with i%16 == l, up to the
// last multiple of 16) that are then added pairwise, lanes l and l+8, then
// l and l+4, l and l+2, then 0 and 1, and the tail follows one element at a
// time: the order of a 16-lane vector loop, so the AVX-512 kernels, the
// AVX2 ones (four vectors of 4 float64 lanes) and the Go loops give the
// same bits.

// Sum returns the sum of x.
func Sum(x []float32) float64 {
	n := len(x) &^ 15
	var sum float64
	if useAVX512 && n > 0 {
		sum = sumAVX512(&x[0], n)
	} else if useAsm && n > 0 {
		sum = sumAVX2(&x[0], n)
	} else {
		var s [16]float64
		for i := 0; i < n; i += 16 {
			for l, v := range x[i : i+16] {
				s[l] += float64(v)
			}
		}
		sum = reduce16(&s)
	}
	for _, v := range x[n:] {
		sum += float64(v)
	}
	return sum
}

// SumSquares returns the sum of x and the sum of its squares.
func SumSquares(x []float32) (sum, sq float64) {
	n := len(x) &^ 15
	if useAVX512 && n > 0 {
		sum, sq = sumSquaresAVX512(&x[0], n)
	} else if useAsm && n > 0 {
		sum, sq = sumSquaresAVX2(&x[0], n)
	} else {
		var s, q [16]float64
		for i := 0; i < n; i += 16 {
			for l, v := range x[i : i+16] {
				f := float64(v)
				s[l] += f
				q[l] += f * f
			}
		}
		sum, sq = reduce16(&s), reduce16(&q)
	}
	for _, v := range x[n:] {
		f := float64(v)
		sum += f
		sq += f * f
	}
	return sum, sq
}

// SumCentered returns the sum of d and the sum of d*(x-m) (x of d's length).
func SumCentered(d, x []float32, m float64) (sd, sdx float64) {
	x = x[:len(d)]
	n := len(d) &^ 15
	if useAVX512 && n > 0 {
		sd, sdx = sumCenteredAVX512(&d[0], &x[0], n, m)
	} else if useAsm && n > 0 {
		sd, sdx = sumCenteredAVX2(&d[0], &x[0], n, m)
	} else {
		var s, q [16]float64
		for i := 0; i < n; i += 16 {
			xs := x[i : i+16]
			for l, v := range d[i : i+16] {
				f := float64(v)
				s[l] += f
				q[l] += f * (float64(xs[l]) - m)
			}
		}
		sd, sdx = reduce16(&s), reduce16(&q)
	}
	for i, v := range d[n:] {
		f := float64(v)
		sd += f
		sdx += f * (float64(x[n+i]) - m)
	}
	return sd, sdx
}

// reduce16 adds 16 lanes in the kernels' order.
func reduce16(p *[16]float64) float64 {
	var q [8]float64
	for l := range q {
		q[l] = p[l] + p[l+8]
	}
	r0, r1, r2, r3 := q[0]+q[4], q[1]+q[5], q[2]+q[6], q[3]+q[7]
	return (r0 + r2) + (r1 + r3)
}

// Affine writes y = x*a + b (a product, then a sum: no fused multiply-add).
func Affine(x, y []float32, a, b float32) {
	y = y[:len(x)]
	n := 0
	if useAVX512 && len(x) >= 16 {
		n = len(x) &^ 15
		affineAVX512(&x[0], &y[0], n, a, b)
	}
	if k := (len(x) - n) &^ 7; useAsm && k > 0 {
		affineAVX2(&x[n], &y[n], k, a, b)
		n += k
	}
	for i, v := range x[n:] {
		y[n+i] = v*a + b
	}
}

// NormGrad writes dx = (a*d + bx*(x-m)) + c, normalization's input gradient
// for one channel.
func NormGrad(d, x, dx []float32, a, bx, m, c float32) {
	x, dx = x[:len(d)], dx[:len(d)]
	n := 0
	if useAVX512 && len(d) >= 16 {
		n = len(d) &^ 15
		normGradAVX512(&d[0], &x[0], &dx[0], n, a, bx, m, c)
	}
	if k := (len(d) - n) &^ 7; useAsm && k > 0 {
		normGradAVX2(&d[n], &x[n], &dx[n], k, a, bx, m, c)
		n += k
	}
	for i, v := range d[n:] {
		dx[n+i] = a*v + bx*(x[n+i]-m) + c
	}
}
