package vec32

// KernelPath names the widest kernels the package runs: "AVX-512" (amd64
// with AVX-512F; kernels that have no AVX-512 version run their AVX2 one),
// "AVX2" or "Go". The choice is made once, at start, from
// golang.org/x/sys/cpu, which honours GODEBUG: GODEBUG=cpu.avx512f=off
// selects the AVX2 kernels on an AVX-512 machine, and cpu.avx2=off as well
// the Go loops. Benchmarks report it, so that a figure says which path
// produced it.
func KernelPath() string {
	switch {
	case useAVX512:
		return "AVX-512"
	case useAsm:
		return "AVX2"
	}
	return "Go"
}
