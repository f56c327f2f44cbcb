package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops of a VQ-VAE's quantizer (van den Oord et al. 2017): the nearest
// code of each latent with the straight-through gradient, and the stop
// gradient sg(.) of the commitment loss.

// Codes receives the index of the code VectorQuantize picked for each
// position of its input, (B, H, W) row-major, on every run: what the
// codebook's updates outside the graph and the usage figures read.
type Codes struct {
	Index []int32
}

// vqOp maps z (B, D, H, W) and a codebook (K, D) to the nearest code of each
// of z's B*H*W D-vectors, laid out as z. Its gradient is straight-through:
// dL/dz = dL/dq, as if q = z + sg(e - z); the codebook gets none (an
// exponential average updates it outside the graph).
type vqOp struct {
	pureOp
	b, d, h, w, k int
	codes         *Codes // nil: not recorded
}

// VectorQuantize returns the nearest code (in Euclidean distance, the lowest
// index on a tie) of every D-vector z[b, :, y, x] of z (B, D, H, W), from
// codebook (K, D), as a (B, D, H, W) tensor; codes, when not nil, receives
// the picked indices on every run. The gradient passes to z unchanged
// (straight-through) and not to the codebook.
func VectorQuantize(z, codebook *G.Node, codes *Codes) *G.Node {
	s, c := z.Shape(), codebook.Shape()
	if len(s) != 4 || len(c) != 2 || c[1] != s[1] {
		failf("vector quantize: want z (B,D,H,W) and a codebook (K,D), got %v and %v", s, c)
	}
	op := vqOp{b: s[0], d: s[1], h: s[2], w: s[3], k: c[0], codes: codes}
	if codes != nil {
		codes.Index = make([]int32, op.b*op.h*op.w)
	}
	return must(G.ApplyOp(op, z, codebook))
}

func (op vqOp) Arity() int    { return 2 }
func (op vqOp) Type() hm.Type { return fnType(4, 2, 4) }
func (op vqOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.b, op.d, op.h, op.w}, nil
}

func (op vqOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "vector quantize", vals, true)
	if err != nil {
		return nil, err
	}
	z, book := in[0], in[1]
	idx := make([]int32, op.b*op.h*op.w)
	if op.codes != nil {
		idx = op.codes.Index
	}
	NearestCodes(z, book, op.b, op.d, op.h*op.w, op.k, idx)
	hw := op.h * op.w
	for b := 0; b < op.b; b++ {
		for p := 0; p < hw; p++ {
			e := book[int(idx[b*hw+p])*op.d:]
			for c := 0; c < op.d; c++ {
				dst[(b*op.d+c)*hw+p] = e[c]
			}
		}
	}
	return out, nil
}

// NearestCodes writes into idx (B*P) the index of the code of book (K, D)
// nearest each D-vector of z (B, D, P), P positions per image, channels
// first: argmin_k ||e_k||^2 - 2 z.e_k, the lowest k on a tie.
func NearestCodes(z, book []float32, b, d, p, k int, idx []int32) {
	norms := make([]float32, k)
	for j := range norms {
		var s float32
		for _, v := range book[j*d : (j+1)*d] {
			s += v * v
		}
		norms[j] = s
	}
	parallelFor(b, 1, func(lo, hi int) {
		vec := make([]float32, d)
		for i := lo; i < hi; i++ {
			for q := 0; q < p; q++ {
				for c := range vec {
					vec[c] = z[(i*d+c)*p+q]
				}
				best, bestDist := 0, float32(0)
				for j := 0; j < k; j++ {
					e := book[j*d : (j+1)*d]
					var dot float32
					for c, v := range vec {
						dot += v * e[c]
					}
					if dist := norms[j] - 2*dot; j == 0 || dist < bestDist {
						best, bestDist = j, dist
					}
				}
				idx[i*p+q] = int32(best)
			}
		}
	})
}

func (op vqOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "VectorQuantize(%d,%d,%d,%d,%d,%p)", op.b, op.d, op.h, op.w, op.k, op.codes)
}
func (op vqOp) Hashcode() uint32 { return hashOf(op) }
func (op vqOp) String() string   { return fmt.Sprintf("VectorQuantize(K=%d,D=%d)", op.k, op.d) }

// DiffWRT implements G.SDOp: z only.
func (op vqOp) DiffWRT(int) []bool { return []bool{true, false} }

// SymDiff implements G.SDOp: the straight-through gradient, a copy of the
// output's.
func (op vqOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(copyOp{shape: grad.Shape().Clone()}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g, nil}, nil
}

// copyOp copies its input. As StopGradient it has no gradient: sg(x) of
// the VQ-VAE's commitment loss; otherwise its gradient is a copy too.
type copyOp struct {
	pureOp
	shape tensor.Shape
	stop  bool
}

// StopGradient returns a copy of x through which no gradient flows: sg(x).
func StopGradient(x *G.Node) *G.Node {
	return must(G.ApplyOp(copyOp{shape: x.Shape().Clone(), stop: true}, x))
}

func (op copyOp) Arity() int    { return 1 }
func (op copyOp) Type() hm.Type { return uniformType(len(op.shape), 1) }
func (op copyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op copyOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "copy", vals, true)
	if err != nil {
		return nil, err
	}
	copy(dst, in[0])
	return out, nil
}
func (op copyOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "Copy%v(%v)", op.shape, op.stop) }
func (op copyOp) Hashcode() uint32      { return hashOf(op) }
func (op copyOp) String() string {
	if op.stop {
		return "StopGradient"
	}
	return "Copy"
}
func (op copyOp) DiffWRT(int) []bool { return []bool{!op.stop} }
func (op copyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.stop {
		return G.Nodes{nil}, nil
	}
	return applyOne(copyOp{shape: op.shape.Clone()}, grad)
}
