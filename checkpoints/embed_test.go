package checkpoints

import "testing"

// budget is what all the shipped files may take together: 48 MiB, so that
// the binary that embeds them stays small enough to copy around.
const budget = 48 << 20

// TestShippedFitTheBudget adds up the embedded files: a new file that
// breaks the budget must make room first (F16 where quality does not
// move, checkpoints/README.md).
func TestShippedFitTheBudget(t *testing.T) {
	total := 0
	for _, m := range Models() {
		b, ok := Shipped(m)
		if !ok {
			t.Fatalf("%s is listed but does not load", m)
		}
		total += len(b)
	}
	t.Logf("%d files, %d bytes of %d", len(Models()), total, budget)
	if total > budget {
		t.Errorf("the shipped files take %d bytes, over the budget of %d (48 MiB): store large tensors as F16 (genmodel export --dtype f16)", total, budget)
	}
}
