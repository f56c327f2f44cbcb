//go:build !linux

package vec32

import "testing"

// guardedFloats is make off Linux: nothing faults past the slice.
func guardedFloats(t testing.TB, n int, atStart bool) []float32 { return make([]float32, n) }
