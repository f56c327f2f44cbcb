package vec32

// leakyAVX2 is leakyGo over n (a multiple of 8) elements.
//
//go:noescape
func leakyAVX2(x, in, out *float32, n int, slope float32)

// leakyAVX512 is leakyGo over n (a multiple of 16) elements.
//
//go:noescape
func leakyAVX512(x, in, out *float32, n int, slope float32)

// affineReLUAVX2 is affineReLUGo over n (a multiple of 8) elements.
//
//go:noescape
func affineReLUAVX2(x, y *float32, n int, a, b float32)

// affineReLUAVX512 is affineReLUGo over n (a multiple of 16) elements.
//
//go:noescape
func affineReLUAVX512(x, y *float32, n int, a, b float32)

// reluGradAVX2 is reluGradGo over n (a multiple of 8) elements.
//
//go:noescape
func reluGradAVX2(y, dy, dx *float32, n int, s float32)

// reluGradAVX512 is reluGradGo over n (a multiple of 16) elements.
//
//go:noescape
func reluGradAVX512(y, dy, dx *float32, n int, s float32)
