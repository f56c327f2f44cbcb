package vec32

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2 kernels and useAVX512 the AVX-512 ones; they are
// variables so tests can compare every path on one machine. x/sys/cpu
// checks that the OS saves the vector state, and honours
// GODEBUG=cpu.avx512f=off (and cpu.avx2=off), which `make test` uses to run
// the other paths.
var (
	useAsm    = cpu.X86.HasAVX2
	useAVX512 = cpu.X86.HasAVX512F
)
