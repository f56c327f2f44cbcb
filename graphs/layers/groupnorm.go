package layers

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/ops"
)

// GroupNorm is PyTorch's nn.GroupNorm(groups, C) on (B, C, H, W): each
// image's channels are split into groups normalized by their own mean and
// variance (no batch statistics, so training and sampling agree), then
// scaled and shifted per channel by weight (1) and bias (0).
//
// It is the project's own op (ops.GroupNorm): Gorgonia's GroupNorm logs
// every backward call through the log package, which costs ten times the op
// itself.
type GroupNorm struct {
	Groups, C    int
	Eps          float64
	Weight, Bias *graphs.Param
}

// NewGroupNorm adds name.weight (ones) and name.bias (zeros) to ps.
func NewGroupNorm(ps *graphs.ParamSet, name string, groups, c int) *GroupNorm {
	if groups <= 0 || c%groups != 0 {
		graphs.Fail(fmt.Errorf("groupnorm %s: %d channels do not split into %d groups", name, c, groups))
	}
	gn := &GroupNorm{Groups: groups, C: c, Eps: 1e-5, Weight: ps.Add(name+".weight", c), Bias: ps.Add(name+".bias", c)}
	for i := range gn.Weight.Data {
		gn.Weight.Data[i] = 1
	}
	return gn
}

// Forward normalizes x of shape (B, C, H, W).
func (gn *GroupNorm) Forward(b *graphs.Bound, x *G.Node) *G.Node {
	s := x.Shape()
	if len(s) != 4 || s[1] != gn.C {
		graphs.Fail(fmt.Errorf("groupnorm: input %v has no %d channels on axis 1", s, gn.C))
	}
	return ops.GroupNorm(x, b.Node(gn.Weight, 1, gn.C), b.Node(gn.Bias, 1, gn.C), gn.Groups, gn.Eps)
}
