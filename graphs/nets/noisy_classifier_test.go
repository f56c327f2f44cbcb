package nets

import (
	"math/rand/v2"
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
	"github.com/genmodel/genmodel/graphs/layers"
)

// TestNoisyClassifierGradients checks the weights' gradients of the
// training loss and the input gradient guidance follows, against finite
// differences.
func TestNoisyClassifierGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	c := NewNoisyClassifier(rng)
	for _, wrtInput := range []bool{false, true} {
		ng, err := c.BuildGraph(2, wrtInput)
		if err != nil {
			t.Fatal(err)
		}
		gradcheck.FillNormal(rng, ng.XT)
		layers.TimestepEmbedding(ng.TSin, []int{10, 900}, NoisyClassifierTimeDim)
		ng.OneHot[3], ng.OneHot[10+7] = 1, 1
		loss := ng.Loss
		var prog *graphs.Program
		if wrtInput {
			loss = ng.LogProb
			prog, err = graphs.CompileWRT(ng.Bound, loss, graphs.Outputs{loss}, []*graphs.Param{ng.Image})
		} else {
			prog, err = graphs.Compile(ng.Bound, loss, graphs.Outputs{loss})
		}
		if err != nil {
			t.Fatal(err)
		}
		gradcheck.Check(t, prog, gradcheck.LossFunc(t, prog, loss), 30)
		if wrtInput && (len(prog.Params()) != 1 || prog.Params()[0] != ng.Image) {
			t.Errorf("the guidance program differentiates %d parameters, want only the image", len(prog.Params()))
		}
	}
}
