package vec32

import (
	"syscall"
	"testing"
	"unsafe"
)

// guardedFloats returns n (> 0) zeroed float32s that end where an
// inaccessible page begins or, with atStart, begin where one ends: a kernel
// that reads or writes past them faults.
func guardedFloats(t testing.TB, n int, atStart bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	guard, b := mem[size:], mem[size-4*n:size]
	if atStart {
		guard, b = mem[:page], mem[page:page+4*n]
	}
	if err := syscall.Mprotect(guard, syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}
