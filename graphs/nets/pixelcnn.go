package nets

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/layers"
	"github.com/genmodel/genmodel/graphs/ops"
)

// PixelCNNConfig is the architecture of a gated PixelCNN over an H x W grid
// of categorical values: binarized pixels (2 categories) or, as the prior
// of a VQ-VAE, the codes of its latent grid (K categories).
type PixelCNNConfig struct {
	Height, Width int
	// InCategories and OutCategories are the values a position takes as
	// input and as predicted. 2 is the binary case: one input channel
	// holding 0 or 1, and one Bernoulli logit per position. K > 2 is the
	// categorical one: K one-hot input channels, K logits (a softmax).
	InCategories, OutCategories int
	Channels                    int // C, each stack's width
	Layers                      int // gated layers, the first masked A (it excludes the centre), the rest B
	FirstKernel                 int // the first layer's kernel, odd (paper: 7)
	Kernel                      int // the other layers' kernel, odd (paper: 3)
	Head                        int // channels of the output head's hidden 1x1 convolution
	Classes                     int // 0: unconditional; else one-hot classes give each layer a bias
}

// channelsOf is the channels that hold k categories: one for a binary
// value, k one-hot channels otherwise.
func channelsOf(k int) int {
	if k == 2 {
		return 1
	}
	return k
}

// PixelCNN is the gated PixelCNN of van den Oord et al. 2016, "Conditional
// Image Generation with PixelCNN Decoders": a vertical stack that sees the
// rows above (and the current row, which only ever reaches the horizontal
// stack shifted down a row) and a horizontal stack that sees the current
// row to the left, so the receptive field has no blind spot. Each layer is
//
//	v' = vconv(v) + c_v                             (2C channels)
//	h' = hconv(h) + v_to_h(shift_down(v')) + c_h    (2C channels)
//	v  = tanh(v'_a) * sigmoid(v'_g)                 (C channels each half)
//	h  = h + h_out(tanh(h'_a) * sigmoid(h'_g))
//
// with c_v, c_h the class's per-layer biases (conditional only) and no
// residual in the first layer. The output head is ReLU, 1x1 conv, ReLU,
// 1x1 conv to the logits.
//
// The masks are shifts, not zeroed weights: the vertical convolution is a
// k x k convolution of its input with k-1 zero rows on top (PyTorch: padding
// (k-1, k/2), the last k-1 output rows dropped), so output row i sees rows
// i-k+1..i and all of the kernel's taps work; the horizontal one is
// PyTorch's (1, m) convolution padded on the left, a Shift of the row's
// taps followed by a 1x1 convolution (mask B: m = k/2+1 taps, columns
// j-k/2..j; mask A: m = k/2, columns j-k/2..j-1).
//
// Parameter names are a PyTorch module's: layers.N.{v_conv (2C, Cin, k, k),
// v_to_h (2C, 2C, 1, 1), h_conv (2C, Cin, 1, m), h_out (C, C, 1, 1)} (each
// weight and bias), layers.N.{v_class, h_class}.weight (Classes, 2C)
// nn.Embeddings when conditional, and out.1, out.3 the head's 1x1 convs
// (nn.Sequential(ReLU, Conv2d, ReLU, Conv2d)).
type PixelCNN struct {
	Config PixelCNNConfig
	Params *graphs.ParamSet
	Layers []*GatedLayer
	Head   [2]*layers.Conv2d
}

// GatedLayer is one layer of the two stacks.
type GatedLayer struct {
	In, Kernel     int
	VConv, VToH    *layers.Conv2d
	HConv          *graphs.Param // (2C, In, 1, m), m = len(HTaps)
	HBias          *graphs.Param // (2C)
	HTaps          []ops.Tap
	HOut           *layers.Conv2d
	VClass, HClass *graphs.Param // (Classes, 2C), nil when unconditional
	Residual       bool
}

// NewPixelCNN creates the network with PyTorch's default initialization
// (nn.Embedding's N(0, 1) for the class biases) drawn from rng.
func NewPixelCNN(cfg PixelCNNConfig, rng *rand.Rand) (*PixelCNN, error) {
	switch {
	case cfg.Height <= 0 || cfg.Width <= 0:
		return nil, fmt.Errorf("pixelcnn: grid %dx%d", cfg.Height, cfg.Width)
	case cfg.InCategories < 2 || cfg.OutCategories < 2:
		return nil, fmt.Errorf("pixelcnn: categories must be at least 2, got %d in and %d out", cfg.InCategories, cfg.OutCategories)
	case cfg.Channels <= 0 || cfg.Layers <= 0 || cfg.Head <= 0:
		return nil, fmt.Errorf("pixelcnn: channels, layers and head must be positive")
	case cfg.FirstKernel < 3 || cfg.FirstKernel%2 == 0 || cfg.Kernel < 3 || cfg.Kernel%2 == 0:
		return nil, fmt.Errorf("pixelcnn: kernels must be odd and at least 3, got %d and %d", cfg.FirstKernel, cfg.Kernel)
	case cfg.Classes < 0:
		return nil, fmt.Errorf("pixelcnn: classes must not be negative")
	}
	m := &PixelCNN{Config: cfg, Params: graphs.NewParamSet()}
	c := cfg.Channels
	in := channelsOf(cfg.InCategories)
	for i := range cfg.Layers {
		k := cfg.Kernel
		if i == 0 {
			k = cfg.FirstKernel
		}
		name := fmt.Sprintf("layers.%d.", i)
		l := &GatedLayer{In: in, Kernel: k, Residual: i > 0}
		l.VConv = layers.NewConv2d(m.Params, name+"v_conv", in, 2*c, k, 1, k/2, rng)
		l.VToH = layers.NewConv2d(m.Params, name+"v_to_h", 2*c, 2*c, 1, 1, 0, rng)
		// PyTorch's tap t of a (1, m) kernel padded by m-1 (mask B) or m
		// (mask A, the output's last column cropped) reads column
		// j - (m-1) + t or j - m + t.
		m0 := k / 2
		if i > 0 {
			m0++
		}
		for t := range m0 {
			right := m0 - 1 - t
			if i == 0 {
				right++
			}
			l.HTaps = append(l.HTaps, ops.Tap{Right: right})
		}
		l.HConv = m.Params.Add(name+"h_conv.weight", 2*c, in, 1, m0)
		l.HBias = m.Params.Add(name+"h_conv.bias", 2*c)
		layers.UniformInit(l.HConv, in*m0, rng)
		layers.UniformInit(l.HBias, in*m0, rng)
		l.HOut = layers.NewConv2d(m.Params, name+"h_out", c, c, 1, 1, 0, rng)
		if cfg.Classes > 0 {
			l.VClass = m.Params.Add(name+"v_class.weight", cfg.Classes, 2*c)
			l.HClass = m.Params.Add(name+"h_class.weight", cfg.Classes, 2*c)
			layers.NormalInit(l.VClass, 1, rng)
			layers.NormalInit(l.HClass, 1, rng)
		}
		m.Layers = append(m.Layers, l)
		in = c
	}
	m.Head[0] = layers.NewConv2d(m.Params, "out.1", c, cfg.Head, 1, 1, 0, rng)
	m.Head[1] = layers.NewConv2d(m.Params, "out.3", cfg.Head, channelsOf(cfg.OutCategories), 1, 1, 0, rng)
	return m, nil
}

// Forward returns the logits (B, Out, H, W) of x (B, In, H, W) and, when
// conditional, one-hot classes y (B, Classes; nil otherwise). The logits
// at (i, j) depend on x at the positions before (i, j) in raster order
// only.
func (m *PixelCNN) Forward(b *graphs.Bound, x, y *G.Node) *G.Node {
	v, h := x, x
	last := len(m.Layers) - 1
	for i, l := range m.Layers {
		vPre := l.vConv(b, v)
		if y != nil {
			vPre = ops.AddPerChannel(vPre, must(G.Mul(y, b.Node(l.VClass))))
		}
		hPre := l.hConv(b, h)
		hPre = must(G.Add(hPre, l.VToH.Forward(b, ops.Shift(vPre, ops.Tap{Down: 1}))))
		if y != nil {
			hPre = ops.AddPerChannel(hPre, must(G.Mul(y, b.Node(l.HClass))))
		}
		if i < last { // the last layer's vertical output feeds nothing
			v = ops.Gate(vPre)
		}
		out := l.HOut.Forward(b, ops.Gate(hPre))
		if l.Residual {
			out = must(G.Add(out, h))
		}
		h = out
	}
	return m.Head[1].Forward(b, ops.ReLU(m.Head[0].Forward(b, ops.ReLU(h))))
}

// vConv is the vertical stack's convolution of v (B, In, H, W): v padded
// with k/2 zero rows on top, convolved k x k with k/2 zeros all round,
// and the first H rows kept, so that output row i sees rows i-k+1..i.
func (l *GatedLayer) vConv(b *graphs.Bound, v *G.Node) *G.Node {
	s := v.Shape()
	h, w, p := s[2], s[3], l.Kernel/2
	out := l.VConv.Forward(b, ops.ShiftTo(v, h+p, w, ops.Tap{Down: p}))
	return ops.ShiftTo(out, h, w, ops.Tap{})
}

// hConv is the horizontal stack's masked (1, m) convolution of h.
func (l *GatedLayer) hConv(b *graphs.Bound, h *G.Node) *G.Node {
	out := l.HBias.Shape[0]
	bias := b.Node(l.HBias, 1, out)
	w := b.Node(l.HConv, out, l.In*len(l.HTaps), 1, 1)
	return ops.Conv2d(ops.Shift(h, l.HTaps...), w, bias, 1, 0, false)
}

// PixelCNNGraph is the network on a batch of B grids with its inputs, the
// per-grid negative log-likelihood and its batch mean. Fill the inputs with
// SetBinary or SetValues, and Y when conditional, before each run.
type PixelCNNGraph struct {
	Bound  *graphs.Bound
	Batch  int
	X      []float32 // (B, In, H, W): the values, or one-hot channels
	Target []float32 // binary: (B, H*W) of 0 and 1; categorical: one-hot (B*H*W, K)
	Y      []float32 // (B, Classes) one-hot; nil when unconditional
	Logits *G.Node   // (B, Out, H, W)
	NLL    *G.Node   // (B): -log p(x) of each grid in nats (given y)
	Loss   *G.Node   // the mean of NLL
	config PixelCNNConfig
}

// Build builds the network and its likelihood on a batch of grids.
func (m *PixelCNN) Build(batch int) (*PixelCNNGraph, error) {
	return m.BuildRows(batch, m.Config.Height)
}

// BuildRows is Build on the first rows of the grid only. Every layer is
// causal down the rows, so its logits are those of the whole grid's first
// rows: drawing row i needs a graph of i+1 rows, half the work on average.
func (m *PixelCNN) BuildRows(batch, rows int) (*PixelCNNGraph, error) {
	if rows <= 0 || rows > m.Config.Height || batch <= 0 {
		return nil, fmt.Errorf("pixelcnn: %d rows of %d, batch %d", rows, m.Config.Height, batch)
	}
	cfg := m.Config
	cfg.Height = rows
	hw := cfg.Height * cfg.Width
	s := &PixelCNNGraph{Batch: batch, config: cfg}
	err := graphs.Build("pixelcnn", func() {
		g := G.NewGraph()
		b := graphs.Bind(g)
		s.Bound = b
		var x, y, target *G.Node
		x, s.X = graphs.Input(g, "x", batch, channelsOf(cfg.InCategories), cfg.Height, cfg.Width)
		if cfg.Classes > 0 {
			y, s.Y = graphs.Input(g, "y", batch, cfg.Classes)
		}
		s.Logits = m.Forward(b, x, y)
		if k := cfg.OutCategories; k == 2 {
			target, s.Target = graphs.Input(g, "target", batch, hw)
			s.NLL = ops.BCEWithLogitsRows(ops.Reshape(s.Logits, batch, hw), target)
		} else {
			target, s.Target = graphs.Input(g, "target", batch*hw, k)
			// (B, K, H, W) -> (B*H*W, K): the categories on the last axis,
			// where ops.LogSoftmax works.
			perPos := ops.Reshape(must(G.Transpose(s.Logits, 0, 2, 3, 1)), batch*hw, k)
			picked := ops.Reshape(must(G.HadamardProd(ops.LogSoftmax(perPos), target)), batch, hw*k)
			s.NLL = must(G.Neg(must(G.Sum(picked, 1))))
		}
		s.Loss = must(G.HadamardProd(must(G.Sum(s.NLL)), scalar(1/float32(batch))))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SetBinary fills the inputs of a binary network from B grids of 0s and 1s.
func (s *PixelCNNGraph) SetBinary(x []float32) {
	n := len(s.X)
	copy(s.X, x[:n])
	copy(s.Target, x[:n])
}

// SetValues fills the inputs from B grids of categories, each in
// [0, min(InCategories, OutCategories)).
func (s *PixelCNNGraph) SetValues(v []int) {
	cfg := s.config
	hw := cfg.Height * cfg.Width
	v = v[:s.Batch*hw]
	if k := cfg.InCategories; k == 2 {
		for i, c := range v {
			s.X[i] = float32(c)
		}
	} else {
		clear(s.X)
		for i, c := range v {
			b, p := i/hw, i%hw
			s.X[(b*k+c)*hw+p] = 1
		}
	}
	if k := cfg.OutCategories; k == 2 {
		for i, c := range v {
			s.Target[i] = float32(c)
		}
	} else {
		clear(s.Target)
		for i, c := range v {
			s.Target[i*k+c] = 1
		}
	}
}

// SetClasses fills Y with the one-hot classes of the B grids.
func (s *PixelCNNGraph) SetClasses(ys []int) {
	k := s.config.Classes
	clear(s.Y)
	for i, c := range ys[:s.Batch] {
		s.Y[i*k+c] = 1
	}
}

// RowGraphs are what drawing grids in raster order runs: for each row r, the
// network on the grid's first r+1 rows (BuildRows), compiled for its logits.
type RowGraphs struct {
	Graphs   []*PixelCNNGraph
	Programs []*graphs.Program
}

// CompileRows builds and compiles the row graphs for batches of batch grids.
func (m *PixelCNN) CompileRows(batch int) (*RowGraphs, error) {
	h := m.Config.Height
	rg := &RowGraphs{Graphs: make([]*PixelCNNGraph, h), Programs: make([]*graphs.Program, h)}
	for r := range h {
		s, err := m.BuildRows(batch, r+1)
		if err != nil {
			rg.Close()
			return nil, err
		}
		p, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits})
		if err != nil {
			rg.Close()
			return nil, err
		}
		rg.Graphs[r], rg.Programs[r] = s, p
	}
	return rg, nil
}

// Close releases the compiled programs.
func (rg *RowGraphs) Close() {
	for _, p := range rg.Programs {
		if p != nil {
			p.Close()
		}
	}
}

// MeanNLL is the mean negative log-likelihood, in nats per grid, of n grids
// scored in batches of at most batch: fill sets the inputs of grids
// [lo, lo+rows) into s (rows may be short of s.Batch in the last batch;
// the rest of the batch is not counted).
func (m *PixelCNN) MeanNLL(n, batch int, fill func(s *PixelCNNGraph, lo, rows int)) (float64, error) {
	bs := max(1, min(batch, n))
	s, err := m.Build(bs)
	if err != nil {
		return 0, err
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.NLL})
	if err != nil {
		return 0, err
	}
	defer prog.Close()
	var sum float64
	for lo := 0; lo < n; lo += bs {
		rows := min(bs, n-lo)
		fill(s, lo, rows)
		if err := prog.Run(); err != nil {
			return 0, err
		}
		for _, v := range prog.Value(s.NLL)[:rows] {
			sum += float64(v)
		}
	}
	return sum / float64(n), nil
}
