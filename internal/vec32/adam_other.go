//go:build !amd64

package vec32

const useAsm = false

func adamAVX2(w, grad, m, v *float32, n int, b1, omb1, b2, omb2, scale, step, sqrtBC2, eps float32) {
	panic("vec32: no assembly on this architecture")
}

func siluAVX2(x, s, y *float32, n int) { panic("vec32: no assembly on this architecture") }

func siluGradAVX2(x, s, dy, dx *float32, n int) {
	panic("vec32: no assembly on this architecture")
}
