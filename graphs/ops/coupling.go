package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// couplingOp is the elementwise part of RealNVP's affine coupling on
// (B, D) rows with the alternating pixel mask m (m_j = 1 on the half that
// conditions, j odd when keepOdd): given the network's output st = [s, t]
// (B, 2D), with s' = tanh(s)(1-m) and t' = t(1-m):
//
//	mask:    x -> x*m                        (the network's input)
//	forward: (x, st) -> x exp(s') + t'
//	logdet:  st -> sum_j s'_j, (B, 1)        (log|det| of forward)
//	inverse: (y, st) -> (y - t') exp(-s')
//
// and the gradients of the first three. Built from Gorgonia's ops this is a
// column slice, a tanh, an exp and half a dozen broadcasts per layer.
type couplingOp struct {
	pureOp
	kind    int
	b, d    int
	keepOdd bool
}

const (
	coupMask = iota
	coupMaskGrad
	coupForward
	coupForwardDX  // (x, st, dy) -> dx
	coupForwardDST // (x, st, dy) -> dst
	coupLogDet
	coupLogDetDST // (st, g (B,1)) -> dst
	coupInverse
)

// couplingOn is the op of kind for x (B, D), which must be a matrix.
func couplingOn(kind int, x *G.Node, keepOdd bool) couplingOp {
	s := x.Shape()
	if len(s) != 2 {
		failf("coupling: want (B, D), got %v", s)
	}
	return couplingOp{kind: kind, b: s[0], d: s[1], keepOdd: keepOdd}
}

// CouplingMask is x*m for x (B, D): the input of a RealNVP coupling's
// network, m the alternating pixel mask (1 on the odd columns when keepOdd,
// else on the even ones).
func CouplingMask(x *G.Node, keepOdd bool) *G.Node {
	return must(G.ApplyOp(couplingOn(coupMask, x, keepOdd), x))
}

// Coupling is RealNVP's affine coupling of x (B, D) given st = [s, t]
// (B, 2D), the network's output on CouplingMask(x): x exp(s') + t' with
// s' = tanh(s)(1-m), t' = t(1-m).
func Coupling(x, st *G.Node, keepOdd bool) *G.Node {
	return must(G.ApplyOp(couplingOn(coupForward, x, keepOdd), x, st))
}

// CouplingLogDet is Coupling's log|det| per row, (B, 1): sum_j s'_j.
func CouplingLogDet(st *G.Node, keepOdd bool) *G.Node {
	op := couplingOn(coupLogDet, st, keepOdd)
	if op.d%2 != 0 {
		failf("coupling: st %v is not [s, t]", st.Shape())
	}
	op.d /= 2
	return must(G.ApplyOp(op, st))
}

// CouplingInverse undoes Coupling given the same st: (y - t') exp(-s').
func CouplingInverse(y, st *G.Node, keepOdd bool) *G.Node {
	return must(G.ApplyOp(couplingOn(coupInverse, y, keepOdd), y, st))
}

// masked is 1 where column j conditions (passes unchanged).
func (op couplingOp) masked(j int) bool { return (j%2 == 1) == op.keepOdd }

func (op couplingOp) Arity() int {
	switch op.kind {
	case coupMask, coupMaskGrad:
		return 1
	case coupForward, coupInverse, coupLogDetDST:
		return 2
	case coupLogDet:
		return 1
	}
	return 3
}
func (op couplingOp) Type() hm.Type { return uniformType(2, op.Arity()) }
func (op couplingOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	switch op.kind {
	case coupLogDet:
		return tensor.Shape{op.b, 1}, nil
	case coupForwardDST, coupLogDetDST:
		return tensor.Shape{op.b, 2 * op.d}, nil
	}
	return tensor.Shape{op.b, op.d}, nil
}

func (op couplingOp) Do(vals ...G.Value) (G.Value, error) {
	in, out, dst, err := inputsAndOutput(op, "coupling", vals, false)
	if err != nil {
		return nil, err
	}
	d := op.d
	for r := range op.b {
		switch op.kind {
		case coupMask, coupMaskGrad:
			x, y := in[0][r*d:(r+1)*d], dst[r*d:(r+1)*d]
			for j, v := range x {
				if op.masked(j) {
					y[j] = v
				}
			}
		case coupLogDet:
			s := in[0][r*2*d : r*2*d+d]
			var sum float64
			for j, v := range s {
				if !op.masked(j) {
					sum += math.Tanh(float64(v))
				}
			}
			dst[r] = float32(sum)
		case coupLogDetDST:
			s, g := in[0][r*2*d:r*2*d+d], in[1][r]
			ds := dst[r*2*d : r*2*d+d]
			for j, v := range s {
				if !op.masked(j) {
					th := math.Tanh(float64(v))
					ds[j] = g * float32(1-th*th)
				}
			}
		default:
			x, st := in[0][r*d:(r+1)*d], in[1][r*2*d:(r+1)*2*d]
			s, t := st[:d], st[d:]
			switch op.kind {
			case coupForward, coupInverse:
				y := dst[r*d : (r+1)*d]
				for j, v := range x {
					if op.masked(j) {
						y[j] = v
						continue
					}
					sp := math.Tanh(float64(s[j]))
					if op.kind == coupForward {
						y[j] = float32(float64(v)*math.Exp(sp)) + t[j]
					} else {
						y[j] = float32(float64(v-t[j]) * math.Exp(-sp))
					}
				}
			case coupForwardDX:
				dy, dx := in[2][r*d:(r+1)*d], dst[r*d:(r+1)*d]
				for j := range x {
					if op.masked(j) {
						dx[j] = dy[j]
						continue
					}
					dx[j] = dy[j] * float32(math.Exp(math.Tanh(float64(s[j]))))
				}
			case coupForwardDST:
				dy, dst2 := in[2][r*d:(r+1)*d], dst[r*2*d:(r+1)*2*d]
				for j, v := range x {
					if op.masked(j) {
						continue
					}
					th := math.Tanh(float64(s[j]))
					dst2[j] = float32(float64(dy[j]) * float64(v) * math.Exp(th) * (1 - th*th))
					dst2[d+j] = dy[j]
				}
			}
		}
	}
	return out, nil
}

func (op couplingOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "Coupling(%d,%d,%d,%v)", op.kind, op.b, op.d, op.keepOdd)
}
func (op couplingOp) Hashcode() uint32 { return hashOf(op) }
func (op couplingOp) String() string   { return fmt.Sprintf("Coupling%d", op.kind) }
func (op couplingOp) DiffWRT(n int) []bool {
	return diffAll(n, op.kind == coupMask || op.kind == coupForward || op.kind == coupLogDet)
}
func (op couplingOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	with := func(kind int, args ...*G.Node) (*G.Node, error) {
		o := op
		o.kind = kind
		return G.ApplyOp(o, args...)
	}
	switch op.kind {
	case coupMask:
		n, err := with(coupMaskGrad, grad)
		return G.Nodes{n}, err
	case coupLogDet:
		n, err := with(coupLogDetDST, inputs[0], grad)
		return G.Nodes{n}, err
	case coupForward:
		dx, err := with(coupForwardDX, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		dst, err := with(coupForwardDST, inputs[0], inputs[1], grad)
		return G.Nodes{dx, dst}, err
	}
	return nil, fmt.Errorf("%v is not differentiable", op)
}
