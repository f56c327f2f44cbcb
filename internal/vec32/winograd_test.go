package vec32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWinogradKernelsMatchGo checks the AVX-512 transforms against the Go
// loops bit for bit, on planes of every tile count they take and of odd
// sides, and that they write nothing outside their outputs.
func TestWinogradKernelsMatchGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
	defer func() { useAVX512 = true }()
	const guard = 7.25
	for _, side := range [][2]int{{28, 28}, {14, 14}, {7, 7}, {1, 1}, {2, 3}, {5, 1}, {29, 30}, {30, 29}, {31, 4}} {
		w, h := side[0], side[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
			ty, tx := (h+1)/2, (w+1)/2
			stride := ty*tx + 5
			pad := make([]float32, (2*ty+2)*(2*tx+2))
			for i := range pad {
				pad[i] = float32(r.NormFloat64())
			}
			run := func(avx bool) (v, plane []float32) {
				useAVX512 = avx
				v = make([]float32, 16*stride+3)
				for i := range v {
					v[i] = guard
				}
				WinogradInput(v, stride, pad, ty, tx)
				plane = make([]float32, w*h+3)
				for i := range plane {
					plane[i] = guard
				}
				WinogradOutput(plane, w, h, v, stride, 0.5)
				// The adjoint, from the plane just made, into a fresh M.
				m := make([]float32, 16*stride+3)
				for i := range m {
					m[i] = guard
				}
				WinogradOutputGrad(m, stride, plane, w, h)
				return append(v, m...), plane
			}
			wantV, wantPlane := run(false)
			gotV, gotPlane := run(true)
			for i := range wantV {
				j := i % (16*stride + 3) // V's index, or M's after V
				inTile := j%stride < ty*tx && j < 16*stride
				if gotV[i] != wantV[i] || (!inTile && gotV[i] != guard) {
					t.Fatalf("V[%d] = %v, want %v", i, gotV[i], wantV[i])
				}
			}
			for i := range wantPlane {
				if gotPlane[i] != wantPlane[i] || (i >= w*h && gotPlane[i] != guard) {
					t.Fatalf("plane[%d] = %v, want %v", i, gotPlane[i], wantPlane[i])
				}
			}
		})
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
