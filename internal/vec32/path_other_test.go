//go:build !amd64

package vec32

// Off amd64 there is only the Go path.
func selectPath(p kernelPath) { useAVX512 = p.avx512 }
