package vec32

// adamAVX2 is adamGo over n (a multiple of 8) elements.
//
//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, b1, omb1, b2, omb2, scale, step, sqrtBC2, eps float32)
