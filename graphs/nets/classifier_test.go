package nets

import (
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

func TestClassifierGradients(t *testing.T) {
	c := NewClassifier(rand.New(rand.NewPCG(3, 3)))
	lg, err := c.BuildLoss(2)
	if err != nil {
		t.Fatal(err)
	}
	prog, lossFn := gradcheck.Compile(t, lg.Bound, lg.Loss)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range lg.X {
		lg.X[i] = rng.Float32()
	}
	lg.OneHot[3], lg.OneHot[17] = 1, 1
	for i := range lg.DropMask {
		lg.DropMask[i] = float32(rng.IntN(2)) * 2
	}
	gradcheck.Check(t, prog, lossFn, 10)
}
