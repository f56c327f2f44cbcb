package flow

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/train"
)

// flowNet is what the flow adapter needs of a normalizing flow's network.
type flowNet interface {
	params() []*graphs.Param    // the checkpoint's tensors, buffers included
	trainable() []*graphs.Param // what Adam updates
	dims() int                  // pixels per image
	// nll builds -log p(x) of a batch in the flow's input space; init lets
	// data-dependent initializations run on the graph's first run.
	nll(batch int, init bool) (x []float32, b *graphs.Bound, nllSum, loss *G.Node, err error)
	// sampler builds the inverse for a batch: draw fills the latents at a
	// temperature, out is the image in the flow's input space.
	sampler(batch int) (b *graphs.Bound, draw func(t float64, rng *rand.Rand) error, out *G.Node, err error)
	// evalBatch is the batch of the test bits/dim given eval.batch_size:
	// a network whose graph at that batch would not fit in memory caps it.
	evalBatch(configured int) int
}

// Flow trains a normalizing flow by exact maximum likelihood on dequantized,
// logit-transformed images and reports bits/dim.
type Flow struct {
	name   string
	net    flowNet
	common config.Common
	pre    logitTransform
	side   int
	temp   float64

	x       []float32
	prog    *graphs.Program
	loss    *G.Node
	opt     *train.Adam
	logDet  []float64
	metrics []train.Metric
}

func newFlow(name string, net flowNet, common config.Common, alpha, temp float64) (*Flow, error) {
	if alpha <= 0 || alpha >= 0.5 {
		return nil, fmt.Errorf("config: %s.alpha must be in (0, 0.5), got %g", name, alpha)
	}
	if err := models.CheckTemperature(temp); err != nil {
		return nil, fmt.Errorf("config: %s.%w", name, err)
	}
	if common.Data.Binarize {
		return nil, fmt.Errorf("config: a flow models 256 grey levels; set data.binarize to false")
	}
	return &Flow{name: name, net: net, common: common, pre: logitTransform{alpha}, side: common.Data.ImageSide(), temp: temp}, nil
}
