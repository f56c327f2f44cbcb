package nets

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
)

// Adversarial is a generator and a discriminator that the GAN training steps
// drive: the seed's MLP GAN and the DCGAN.
type Adversarial interface {
	AllParams() *graphs.ParamSet
	GenParams() []*graphs.Param  // trained by G's optimizer
	DiscParams() []*graphs.Param // trained by D's optimizer
	// PowerIteration advances spectral normalization (a no-op without it).
	PowerIteration()
	LatentDim() int
	Classes() int // 0 for an unconditional model
	// Codes is the number of categories of an InfoGAN code (0: none). G
	// takes the code's one-hot where a conditional G takes labels.
	Codes() int
	// ImageShape is the shape of a batch of images as G makes them and D
	// takes them.
	ImageShape(batch int) []int
	// Generator maps z (and one-hot labels) to images in [-1, 1]; train
	// selects batch statistics in normalization layers.
	Generator(b *graphs.Bound, z, onehot *G.Node, train bool) *G.Node
	// GenNorms are G's batch normalizations (none for the MLP GAN), whose
	// statistics a sampler may recompute for other weights.
	GenNorms() []*layers.BatchNorm
	// Discriminator maps images (and labels) to logits (B, 1) and, with
	// Codes > 0, to code logits (B, Codes) (else nil); masks are its
	// dropout masks, shaped by DropoutWidths.
	Discriminator(b *graphs.Bound, x, onehot *G.Node, masks []*G.Node, train bool) (logit, code *G.Node)
	DropoutWidths() []int
}

// GANStep is one of the two training graphs of a GAN at a batch size: the
// discriminator step (real images and a generated batch, gradients for D)
// or the generator step (a generated batch through D, gradients for G).
type GANStep struct {
	Bound *graphs.Bound
	// Inputs. Real is unused by the generator step; OneHot* are nil for an
	// unconditional GAN, except that OneHotFake holds the codes G is given
	// when it has an InfoGAN code (Codes wide); Noise* (instance noise
	// added to D's inputs) are nil when it is off; Masks are D's dropout
	// masks, one per hidden layer and D pass (real pass first), nil without
	// dropout.
	Real, Z, OneHotReal, OneHotFake []float32
	NoiseReal, NoiseFake            []float32
	Masks                           [][]float32
	// Outputs.
	Loss                   *G.Node
	CodeLoss               *G.Node // InfoGAN's code cross-entropy on the generated batch (nil without codes)
	RealLogits, FakeLogits *G.Node
	DReal, DFake           *G.Node // mean D output (a probability for BCE-type losses, the critic value otherwise)
}

// GANStepOptions selects the loss and the regularizers built into the graph.
type GANStepOptions struct {
	Loss           string
	LabelSmoothing float64
	InstanceNoise  bool
	// InfoWeight is InfoGAN's lambda: both steps add InfoWeight times the
	// cross-entropy of D's code head on the generated batch to their loss.
	InfoWeight float64
}

// BuildGANStep builds the discriminator step (disc true) or the generator
// step of any generator/discriminator pair.
func BuildGANStep(m Adversarial, batch int, disc bool, opt GANStepOptions) (*GANStep, error) {
	s := &GANStep{}
	err := graphs.Build("gan step", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		s.Bound = b
		var z, ohFake, ohReal *G.Node
		z, s.Z = graphs.Input(g, "z", batch, m.LatentDim())
		if width := GeneratorOneHotWidth(m); width > 0 {
			ohFake, s.OneHotFake = graphs.Input(g, "onehot_fake", batch, width)
		}
		img := m.ImageShape(batch)
		fake := m.Generator(b, z, ohFake, true)
		if opt.InstanceNoise {
			var n *G.Node
			n, s.NoiseFake = graphs.Input(g, "noise_fake", img...)
			fake = must(G.Add(fake, n))
		}
		dLabels := ohFake
		if m.Classes() == 0 {
			dLabels = nil // codes are G's alone
		}
		var codeLogits *G.Node
		s.FakeLogits, codeLogits = m.Discriminator(b, fake, dLabels, maskInputs(m, g, s, batch, "fake"), true)
		if disc {
			var real *G.Node
			real, s.Real = graphs.Input(g, "real", img...)
			if m.Classes() > 0 {
				ohReal, s.OneHotReal = graphs.Input(g, "onehot_real", batch, m.Classes())
			}
			if opt.InstanceNoise {
				var n *G.Node
				n, s.NoiseReal = graphs.Input(g, "noise_real", img...)
				real = must(G.Add(real, n))
			}
			s.RealLogits, _ = m.Discriminator(b, real, ohReal, maskInputs(m, g, s, batch, "real"), true)
		}
		probe := func(l *G.Node) *G.Node {
			if opt.Loss == LossBCE || opt.Loss == LossMinimax {
				return must(G.Mean(must(G.Sigmoid(l))))
			}
			return must(G.Mean(l))
		}
		s.DFake = probe(s.FakeLogits)
		realLogits := s.FakeLogits // the generator step has no real pass
		if disc {
			s.DReal = probe(s.RealLogits)
			realLogits = s.RealLogits
		}
		dLoss, gLoss, err := GANLosses(opt.Loss, realLogits, s.FakeLogits, opt.LabelSmoothing)
		if err != nil {
			graphs.Fail(err)
		}
		s.Loss = gLoss
		if disc {
			s.Loss = dLoss
		}
		if codeLogits != nil {
			s.CodeLoss = SoftmaxCrossEntropy(codeLogits, ohFake)
			s.Loss = must(G.Add(s.Loss, must(G.HadamardProd(s.CodeLoss, scalar(float32(opt.InfoWeight))))))
		}
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// maskInputs creates the dropout mask inputs of one D pass.
func maskInputs(m Adversarial, g *G.ExprGraph, s *GANStep, batch int, pass string) []*G.Node {
	var nodes []*G.Node
	for i, width := range m.DropoutWidths() {
		n, data := graphs.Input(g, fmt.Sprintf("mask_%s_%d", pass, i), batch, width)
		nodes = append(nodes, n)
		s.Masks = append(s.Masks, data)
	}
	return nodes
}

// GeneratorOneHotWidth is the width of G's one-hot input: its classes, its
// InfoGAN code's categories, or 0 when it takes neither.
func GeneratorOneHotWidth(m Adversarial) int {
	return max(m.Classes(), m.Codes())
}

// BuildGANGenerator builds the sampling graph: z (and labels) to images in
// [-1,1], with normalization layers in evaluation mode, or with each batch's
// own statistics when batchStats is set (an averaged generator, whose
// running statistics belong to no particular weights).
func BuildGANGenerator(m Adversarial, batch int, batchStats bool) (b *graphs.Bound, z, onehot []float32, out *G.Node, err error) {
	err = graphs.Build("gan generator", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		var zn, oh *G.Node
		zn, z = graphs.Input(g, "z", batch, m.LatentDim())
		if width := GeneratorOneHotWidth(m); width > 0 {
			oh, onehot = graphs.Input(g, "onehot", batch, width)
		}
		out = m.Generator(b, zn, oh, batchStats)
	})
	return b, z, onehot, out, err
}

// BuildGANCritic builds D alone in evaluation mode (running statistics, no
// dropout): images x in [-1,1] (and labels) to logits (B, 1). Discriminator
// rejection sampling ranks generated images by these logits.
func BuildGANCritic(m Adversarial, batch int) (b *graphs.Bound, x, onehot []float32, logits *G.Node, err error) {
	err = graphs.Build("gan critic", func() {
		g := G.NewGraph()
		b = graphs.Bind(g)
		var xn, oh *G.Node
		xn, x = graphs.Input(g, "x", m.ImageShape(batch)...)
		if m.Classes() > 0 {
			oh, onehot = graphs.Input(g, "onehot", batch, m.Classes())
		}
		logits, _ = m.Discriminator(b, xn, oh, nil, false)
	})
	return b, x, onehot, logits, err
}

// embedParams starts a network's parameter list with its label embedding,
// if it has one.
func embedParams(embed *graphs.Param) []*graphs.Param {
	if embed == nil {
		return nil
	}
	return []*graphs.Param{embed}
}

// withLabels is x with, for a conditional network (embed not nil), the
// label embeddings of the one-hot rows concatenated: [x, onehot embed].
func withLabels(b *graphs.Bound, x, onehot *G.Node, embed *graphs.Param) *G.Node {
	if embed == nil {
		return x
	}
	return must(G.Concat(1, x, must(G.Mul(onehot, b.Node(embed)))))
}
