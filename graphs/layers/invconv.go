package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// InvConv is the invertible 1x1 convolution in LU form (ops.InvConvWeight).
// P and sign_s are buffers fixed at initialization.
type InvConv struct {
	C                          int
	Lower, Upper, Logs, P, Sgn *graphs.Param
}

// NewInvConv starts from a random rotation, factorized as P L U.
func NewInvConv(ps *graphs.ParamSet, name string, c int, rng *rand.Rand) *InvConv {
	ic := &InvConv{C: c, Lower: ps.Add(name+".lower", c, c), Upper: ps.Add(name+".upper", c, c),
		Logs: ps.Add(name+".log_s", c), P: ps.Add(name+".p", c, c), Sgn: ps.Add(name+".sign_s", c)}
	g := mat.NewDense(c, c, nil)
	for i := range c {
		for j := range c {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var lu mat.LU
	lu.Factorize(&q)
	var l mat.TriDense
	var u mat.TriDense
	lu.LTo(&l)
	lu.UTo(&u)
	var luProd mat.Dense
	luProd.Mul(&l, &u)
	// P: row i of Q is row perm[i] of L U.
	for i := range c {
		best, bestD := 0, math.Inf(1)
		for r := range c {
			d := 0.0
			for j := range c {
				d += math.Abs(q.At(i, j) - luProd.At(r, j))
			}
			if d < bestD {
				best, bestD = r, d
			}
		}
		ic.P.Data[i*c+best] = 1
	}
	for i := range c {
		for j := range c {
			switch {
			case j < i:
				ic.Lower.Data[i*c+j] = float32(l.At(i, j))
			case j > i:
				ic.Upper.Data[i*c+j] = float32(u.At(i, j))
			default:
				d := u.At(i, i)
				ic.Sgn.Data[i] = float32(math.Copysign(1, d))
				ic.Logs.Data[i] = float32(math.Log(math.Abs(d)))
			}
		}
	}
	return ic
}

// lu returns the permutation P (row i of W is row perm[i] of L U) and the
// signs of U's diagonal, read from the buffers (a checkpoint's, after
// loading).
func (ic *InvConv) lu() (perm []int, sign []float32, err error) {
	c := ic.C
	perm, sign = make([]int, c), append([]float32(nil), ic.Sgn.Data...)
	seen := make([]bool, c)
	for i := range c {
		found := -1
		for j := range c {
			switch v := ic.P.Data[i*c+j]; {
			case v == 1 && found < 0:
				found = j
			case v != 0:
				found = -2
			}
		}
		if found < 0 || seen[found] {
			return perm, sign, fmt.Errorf("glow: %s is not a permutation matrix", ic.P.Name)
		}
		seen[found] = true
		perm[i] = found
	}
	for _, s := range sign {
		if s != 1 && s != -1 {
			return perm, sign, fmt.Errorf("glow: %s holds values other than 1 and -1", ic.Sgn.Name)
		}
	}
	return perm, sign, nil
}

// Forward applies the convolution and returns its log-determinant for one
// image, H W sum(log_s).
func (ic *InvConv) Forward(b *graphs.Bound, x *G.Node) (y, logDet *G.Node) {
	perm, sign, err := ic.lu()
	if err != nil {
		graphs.Fail(err)
	}
	logs := b.Node(ic.Logs, 1, ic.C)
	w := ops.InvConvWeight(b.Node(ic.Lower), b.Node(ic.Upper), logs, perm, sign)
	s := x.Shape()
	return ops.Conv2d(x, w, nil, 1, 0, b.IsInput(x)), must(G.HadamardProd(must(G.Sum(logs)), G.NewConstant(float32(s[2]*s[3]))))
}

// Inverse returns W^-1 (C, C) from the current parameters, in float64.
func (ic *InvConv) Inverse() ([]float32, error) {
	perm, sign, err := ic.lu()
	if err != nil {
		return nil, err
	}
	c := ic.C
	w := mat.NewDense(c, c, ops.InvConvMatrix(ic.Lower.Data, ic.Upper.Data, ic.Logs.Data, perm, sign))
	var inv mat.Dense
	if err := inv.Inverse(w); err != nil {
		return nil, fmt.Errorf("glow: %s: %w", ic.Lower.Name, err)
	}
	out := make([]float32, c*c)
	for i := range c {
		for j := range c {
			out[i*c+j] = float32(inv.At(i, j))
		}
	}
	return out, nil
}
