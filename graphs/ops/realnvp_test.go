package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/internal/gradcheck"
)

// Tests of the convolutional RealNVP coupling ops: the checkerboard mask,
// the affine coupling, its inverse and its log-determinant, for each mask
// on even and odd image sides.

// couplingCase is a mask on an x of a shape.
type couplingCase struct {
	mask  ImageMask
	shape []int // x's (B, C, H, W)
}

func (c couplingCase) String() string { return fmt.Sprintf("%v/%v", c.mask, c.shape) }

var couplingCases = []couplingCase{
	{ImageMask{}, []int{2, 1, 4, 4}},
	{ImageMask{Odd: true}, []int{2, 1, 4, 4}},
	{ImageMask{}, []int{2, 3, 3, 5}}, // odd sides: unequal halves
	{ImageMask{Odd: true}, []int{2, 2, 3, 3}},
	{ImageMask{ChannelWise: true}, []int{2, 4, 3, 3}},
	{ImageMask{ChannelWise: true, Odd: true}, []int{2, 4, 3, 3}},
	{ImageMask{ChannelWise: true, Odd: true}, []int{3, 2, 2, 2}},
}

// couplingParams adds x, h and scale for the case, random: scales of about
// 1, so that tanh and exp are far from linear.
func couplingParams(c couplingCase, rng *rand.Rand) (ps *graphs.ParamSet, x, h, scale *graphs.Param) {
	ps = graphs.NewParamSet()
	b, ch, hh, w := c.shape[0], c.shape[1], c.shape[2], c.shape[3]
	ct := c.mask.Transformed(ch)
	x = gradcheck.RandomParam(ps, "x", rng, b, ch, hh, w)
	h = gradcheck.RandomParam(ps, "h", rng, b, 2*ct, hh, w)
	scale = gradcheck.NormalParam(ps, "scale", 0.8, rng, 1, ct)
	return ps, x, h, scale
}

// TestAffineCouplingGradients checks the gradients of the coupling (with
// respect to x, h and the scale), of its log-determinant and of the
// checkerboard mask against finite differences.
func TestAffineCouplingGradients(t *testing.T) {
	for i, c := range couplingCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, uint64(i)))
			_, x, h, scale := couplingParams(c, rng)
			var loss *G.Node
			b := gradcheck.Build(t, func(b *graphs.Bound) {
				xn, hn, sn := b.Node(x), b.Node(h), b.Node(scale)
				y := AffineCoupling(xn, hn, sn, c.mask)
				ld := AffineCouplingLogDet(hn, sn, c.mask, c.shape[1])
				loss = must(G.Add(gradcheck.WeightedSum(y, rng), gradcheck.WeightedSum(ld, rng)))
				if !c.mask.ChannelWise {
					loss = must(G.Add(loss, gradcheck.WeightedSum(CheckerboardMask(xn, c.mask.Odd), rng)))
				}
			})
			prog, lossFn := gradcheck.Compile(t, b, loss)
			if len(prog.Params()) != 3 {
				t.Fatalf("differentiating %d parameters, want x, h and scale", len(prog.Params()))
			}
			gradcheck.Check(t, prog, lossFn, 40)
		})
	}
}

// TestAffineCouplingInverts checks, per case, that the kept elements pass
// unchanged and the mask keeps exactly them, that the inverse returns x
// within 1e-4, and that the log-determinant is log|det| of the Jacobian of
// x -> y by central differences (h fixed: the op's part of a coupling).
func TestAffineCouplingInverts(t *testing.T) {
	for i, c := range couplingCases {
		t.Run(c.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(22, uint64(i)))
			_, _, h, scale := couplingParams(c, rng)
			shape := append([]int{1}, c.shape[1:]...) // one image: one log-determinant
			hOne := h.Data[:len(h.Data)/c.shape[0]]
			var y, back, ld, masked *G.Node
			var xIn []float32
			b := gradcheck.Build(t, func(b *graphs.Bound) {
				var xn *G.Node
				xn, xIn = graphs.Input(b.G, "x", shape...)
				hn, hData := graphs.Input(b.G, "h", append([]int{1}, h.Shape[1:]...)...)
				copy(hData, hOne)
				sn := b.Node(scale)
				y = AffineCoupling(xn, hn, sn, c.mask)
				back = AffineCouplingInverse(y, hn, sn, c.mask)
				ld = AffineCouplingLogDet(hn, sn, c.mask, shape[1])
				masked = CheckerboardMask(xn, c.mask.Odd)
			})
			prog, err := graphs.Compile(b, nil, graphs.Outputs{y, back, ld, masked})
			if err != nil {
				t.Fatal(err)
			}
			run := func(x []float32) []float32 {
				copy(xIn, x)
				if err := prog.Run(); err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), prog.Value(y)...)
			}
			x := make([]float32, len(xIn))
			gradcheck.FillNormal(rng, x)
			yv := run(x)
			ch, hh, w := shape[1], shape[2], shape[3]
			transformed := 0
			for i, v := range prog.Value(back) {
				if math.Abs(float64(v-x[i])) > 1e-4*math.Max(1, math.Abs(float64(x[i]))) {
					t.Fatalf("x[%d] = %v after the coupling and back, was %v", i, v, x[i])
				}
				chn, p := i/(hh*w), i%(hh*w)
				kept := c.mask.ChannelWise && (chn < ch/2) != c.mask.Odd ||
					!c.mask.ChannelWise && ((p/w+p%w)%2 == 1) == c.mask.Odd
				if kept && yv[i] != x[i] {
					t.Errorf("kept element %d changed: %v -> %v", i, x[i], yv[i])
				}
				if !kept {
					transformed++
				}
				if m := prog.Value(masked)[i]; !c.mask.ChannelWise && m != map[bool]float32{true: x[i], false: 0}[kept] {
					t.Errorf("mask[%d] = %v for x %v, kept %v", i, m, x[i], kept)
				}
			}
			if want := ch * hh * w / 2; transformed < want-ch || transformed > want+ch {
				t.Errorf("%d of %d elements transformed", transformed, ch*hh*w)
			}
			got := prog.Scalar(ld)
			brute := gradcheck.JacobianLogDet(run, x, 1e-2)
			if math.Abs(got-brute) > 1e-3*math.Max(1, math.Abs(brute)) {
				t.Errorf("log|det| %v, brute force %v", got, brute)
			}
		})
	}
}

// TestAffineCouplingIdentity checks that h = 0 (a zero-initialized last
// layer) makes the coupling the identity with log|det| 0, whatever the
// scale.
func TestAffineCouplingIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	for _, c := range couplingCases {
		_, x, h, scale := couplingParams(c, rng)
		clear(h.Data)
		var y, ld *G.Node
		b := gradcheck.Build(t, func(b *graphs.Bound) {
			y = AffineCoupling(b.Node(x), b.Node(h), b.Node(scale), c.mask)
			ld = AffineCouplingLogDet(b.Node(h), b.Node(scale), c.mask, c.shape[1])
		})
		prog := gradcheck.Run(t, b, nil, y, ld)
		for i, v := range prog.Value(y) {
			if v != x.Data[i] {
				t.Fatalf("%v: y[%d] = %v, x %v", c, i, v, x.Data[i])
			}
		}
		for i, v := range prog.Value(ld) {
			if v != 0 {
				t.Errorf("%v: log|det| of image %d is %v", c, i, v)
			}
		}
	}
}
