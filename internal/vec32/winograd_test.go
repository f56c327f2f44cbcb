package vec32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// winogradSides are the planes (w, h) the transform tests take: every
// tile count up to 18 per row, so the AVX2 kernels' chunks of 8 tiles with
// and without a partial one (tx 1-7, 8, 9-16, 17-18) and the AVX-512 ones'
// limit of 15 tiles, each with even and odd sides, some wider ones, and 1
// to 4 tile rows as well as many.
var winogradSides = func() [][2]int {
	sides := [][2]int{{28, 28}, {14, 14}, {7, 7}, {29, 30}, {30, 29}, {31, 4}, {32, 32}, {33, 3}, {64, 5}, {47, 9}, {2, 40}, {1, 33}}
	for w := 1; w <= 36; w++ {
		sides = append(sides, [2]int{w, 1 + w%4}, [2]int{w, 5 + w%6})
	}
	return sides
}()

// TestWinogradKernelsMatchGo checks every kernel path (AVX-512, AVX2)
// against the Go loops bit for bit, on winogradSides, and that the kernels
// write nothing outside their outputs: with slack between the 16 matrices
// and guard values after them, and with buffers of just the needed size
// that end at an inaccessible page, so a read or write past them faults.
func TestWinogradKernelsMatchGo(t *testing.T) {
	const guard = 7.25
	for _, side := range winogradSides {
		w, h := side[0], side[1]
		for _, exact := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d/exact=%v", w, h, exact), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
				ty, tx := (h+1)/2, (w+1)/2
				stride, slack := ty*tx+5, 3
				if exact {
					stride, slack = ty*tx, 0
				}
				// buf is n values: guarded ones when exact, else n and
				// the slack, all guard values.
				buf := func(n int) []float32 {
					if exact {
						return guardedFloats(t, n, false)
					}
					b := make([]float32, n+slack)
					for i := range b {
						b[i] = guard
					}
					return b
				}
				pad := buf((2*ty + 2) * (2*tx + 2))
				for i := range pad {
					pad[i] = float32(r.NormFloat64())
				}
				run := func() (v, plane, m []float32) {
					v = buf(15*stride + ty*tx)
					WinogradInput(v, stride, pad[:(2*ty+2)*(2*tx+2)], ty, tx)
					plane = buf(w * h)
					WinogradOutput(plane[:w*h], w, h, v[:15*stride+ty*tx], stride, 0.5)
					// The adjoint, from the plane just made, into a fresh M.
					m = buf(15*stride + ty*tx)
					WinogradOutputGrad(m[:15*stride+ty*tx], stride, plane[:w*h], w, h)
					return v, plane, m
				}
				var wantV, wantPlane, wantM []float32
				forEachPath(t, func(p kernelPath) {
					v, plane, m := run()
					if p.name == "Go" {
						wantV, wantPlane, wantM = v, plane, m
						return
					}
					for _, c := range []struct {
						name      string
						got, want []float32
						inside    func(i int) bool
					}{
						{"V", v, wantV, func(i int) bool { return i%stride < ty*tx }},
						{"plane", plane, wantPlane, func(i int) bool { return i < w*h }},
						{"M", m, wantM, func(i int) bool { return i%stride < ty*tx }},
					} {
						for i := range c.want {
							in := i < 15*stride+ty*tx && c.inside(i)
							if c.name == "plane" {
								in = i < w*h
							}
							if math.Float32bits(c.got[i]) != math.Float32bits(c.want[i]) || (!in && c.got[i] != guard) {
								t.Fatalf("%s: %s[%d] = %v, Go %v", p.name, c.name, i, c.got[i], c.want[i])
							}
						}
					}
				})
			})
		}
	}
}

// TestWinogradOutputGradIsAdjoint checks <Y(M), dy> = <M, Y*(dy)> for the
// output transform Y (without bias) and WinogradOutputGrad Y*, on even and
// odd planes.
func TestWinogradOutputGradIsAdjoint(t *testing.T) {
	for _, side := range [][2]int{{4, 4}, {7, 7}, {5, 2}, {28, 28}, {31, 3}} {
		w, h := side[0], side[1]
		r := rand.New(rand.NewPCG(uint64(w), 9))
		ty, tx := (h+1)/2, (w+1)/2
		stride := ty * tx
		m, dy := make([]float32, 16*stride), make([]float32, w*h)
		for i := range m {
			m[i] = float32(r.NormFloat64())
		}
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
		}
		y := make([]float32, w*h)
		WinogradOutput(y, w, h, m, stride, 0)
		dm := make([]float32, 16*stride)
		WinogradOutputGrad(dm, stride, dy, w, h)
		var lhs, rhs float64
		for i := range y {
			lhs += float64(y[i]) * float64(dy[i])
		}
		for i := range m {
			rhs += float64(m[i]) * float64(dm[i])
		}
		if math.Abs(lhs-rhs) > 1e-4*math.Max(1, math.Abs(lhs)) {
			t.Errorf("%dx%d: <Y(M), dy> = %v, <M, Y*(dy)> = %v", w, h, lhs, rhs)
		}
	}
}
