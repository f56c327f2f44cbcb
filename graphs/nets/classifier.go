package nets

import (
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// Classifier is a small convolutional MNIST classifier, the feature network
// of genmodel's evaluator (FID and precision/recall are computed on its
// 128-dimensional penultimate layer, as is the accepted practice on MNIST in
// place of Inception features). As a PyTorch module:
//
//	conv1 = Conv2d(1, 32, 3, padding=1);  relu; max_pool2d(2)   28 -> 14
//	conv2 = Conv2d(32, 64, 3, padding=1); relu; max_pool2d(2)   14 -> 7
//	fc1   = Linear(64*7*7, 128); relu     <- the features
//	fc2   = Linear(128, 10)               <- the logits (dropout before it in training)
type Classifier struct {
	Params       *graphs.ParamSet
	Conv1, Conv2 *layers.Conv2d
	FC1, FC2     *layers.Linear
	Side         int // input images are Side x Side (28)
}

// ClassifierFeatures is the width of the penultimate layer.
const ClassifierFeatures = 128

// NewClassifier creates a classifier with PyTorch's default initialization.
func NewClassifier(rng *rand.Rand) *Classifier {
	ps := graphs.NewParamSet()
	return &Classifier{
		Params: ps,
		Conv1:  layers.NewConv2d(ps, "conv1", 1, 32, 3, 1, 1, rng),
		Conv2:  layers.NewConv2d(ps, "conv2", 32, 64, 3, 1, 1, rng),
		FC1:    layers.NewLinear(ps, "fc1", 64*7*7, ClassifierFeatures, rng),
		FC2:    layers.NewLinear(ps, "fc2", ClassifierFeatures, 10, rng),
		Side:   28,
	}
}

// Forward maps images x of shape (B, 1, 28, 28) to the penultimate features
// (B, 128) and the class logits (B, 10). dropMask, if not nil, is a (B, 128)
// input of 0 and 1/(1-p) entries multiplied into the features before fc2:
// dropout whose randomness the caller owns, so training stays reproducible.
func (c *Classifier) Forward(b *graphs.Bound, x, dropMask *G.Node) (features, logits *G.Node) {
	batch := x.Shape()[0]
	h := layers.MaxPool2(ops.ReLU(c.Conv1.Forward(b, x)))
	h = layers.MaxPool2(ops.ReLU(c.Conv2.Forward(b, h)))
	h = ops.Reshape(h, batch, 64*7*7)
	features = ops.ReLU(c.FC1.Forward(b, h))
	f := features
	if dropMask != nil {
		f = must(G.HadamardProd(f, dropMask))
	}
	return features, c.FC2.Forward(b, f)
}

// ClassifierTrainGraph is the classifier's loss on a batch.
type ClassifierTrainGraph struct {
	Bound *graphs.Bound
	// X holds B images, OneHot the one-hot labels (B, 10), DropMask the
	// dropout mask (B, 128).
	X, OneHot, DropMask []float32
	Logits, Loss        *G.Node // Loss: mean cross-entropy over the batch
}

// BuildLoss builds the mean softmax cross-entropy of a batch.
func (c *Classifier) BuildLoss(batch int) (*ClassifierTrainGraph, error) {
	t := &ClassifierTrainGraph{}
	err := graphs.Build("classifier loss", func() {
		g := G.NewGraph()
		t.Bound = graphs.Bind(g)
		var x, y, mask *G.Node
		x, t.X = graphs.Input(g, "x", batch, 1, c.Side, c.Side)
		y, t.OneHot = graphs.Input(g, "onehot", batch, 10)
		mask, t.DropMask = graphs.Input(g, "dropmask", batch, ClassifierFeatures)
		_, t.Logits = c.Forward(t.Bound, x, mask)
		t.Loss = SoftmaxCrossEntropy(t.Logits, y)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ClassifierEvalGraph computes features and class probabilities of a batch.
type ClassifierEvalGraph struct {
	Bound           *graphs.Bound
	X               []float32
	Features, Probs *G.Node
}

// BuildEval builds the inference graph for a batch size.
func (c *Classifier) BuildEval(batch int) (*ClassifierEvalGraph, error) {
	e := &ClassifierEvalGraph{}
	err := graphs.Build("classifier eval", func() {
		g := G.NewGraph()
		e.Bound = graphs.Bind(g)
		var x, logits *G.Node
		x, e.X = graphs.Input(g, "x", batch, 1, c.Side, c.Side)
		e.Features, logits = c.Forward(e.Bound, x, nil)
		e.Probs = ops.Softmax(logits)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
