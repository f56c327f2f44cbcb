package vec32

// siluAVX2 is siluGo over n (a multiple of 8) elements.
//
//go:noescape
func siluAVX2(x, s, y *float32, n int)

// siluGradAVX2 is siluGradGo over n (a multiple of 8) elements.
//
//go:noescape
func siluGradAVX2(x, s, dy, dx *float32, n int)

// siluAVX512 is siluGo over n (a multiple of 16) elements.
//
//go:noescape
func siluAVX512(x, s, y *float32, n int)

// siluGradAVX512 is siluGradGo over n (a multiple of 16) elements.
//
//go:noescape
func siluGradAVX512(x, s, dy, dx *float32, n int)
