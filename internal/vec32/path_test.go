package vec32

import (
	"runtime/debug"
	"testing"
)

// kernelPath is one choice of kernels: the Go loops, AVX2 or AVX-512.
type kernelPath struct {
	name        string
	asm, avx512 bool
}

// The paths this machine can run, as the package chose them at start
// (GODEBUG=cpu.avx512f=off and cpu.avx2=off take paths away).
var hasAVX2, hasAVX512 = useAsm, useAVX512

// kernelPaths lists the paths this machine runs, the Go loops first: the
// reference the others must match bit for bit.
func kernelPaths() []kernelPath {
	paths := []kernelPath{{name: "Go"}}
	if hasAVX2 {
		paths = append(paths, kernelPath{"AVX2", true, false})
	}
	if hasAVX512 {
		paths = append(paths, kernelPath{"AVX-512", true, true})
	}
	return paths
}

// forEachPath runs f with each path selected in turn, Go's first, and
// restores the machine's choice after. A memory fault in f (a kernel
// touching a guard page of guardedFloats) fails the test instead of
// crashing it.
func forEachPath(t testing.TB, f func(p kernelPath)) {
	t.Helper()
	defer selectPath(kernelPath{asm: hasAVX2, avx512: hasAVX512})
	for _, p := range kernelPaths() {
		selectPath(p)
		func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if e := recover(); e != nil {
					t.Fatalf("%s: %v", p.name, e)
				}
			}()
			f(p)
		}()
	}
}

// TestKernelPath checks that KernelPath names each path as the tests do,
// and that the path chosen at start is the widest this machine has.
func TestKernelPath(t *testing.T) {
	paths := kernelPaths()
	if got, want := KernelPath(), paths[len(paths)-1].name; got != want {
		t.Errorf("at start KernelPath() = %q, want %q", got, want)
	}
	forEachPath(t, func(p kernelPath) {
		if got := KernelPath(); got != p.name {
			t.Errorf("KernelPath() = %q with the %s path selected", got, p.name)
		}
	})
}
