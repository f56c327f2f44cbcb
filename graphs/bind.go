package graphs

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Bound places a model's parameters on one graph. Each parameter becomes one
// node whose value is a view of the parameter's storage, created the first
// time a forward function asks for it.
type Bound struct {
	G     *G.ExprGraph
	nodes map[*Param]*G.Node
	order []*Param
}

// Bind starts placing parameters on g.
func Bind(g *G.ExprGraph) *Bound {
	return &Bound{G: g, nodes: map[*Param]*G.Node{}}
}

// Node returns p's node on this graph, viewed with the given shape (which
// must hold exactly p's elements; a bias of PyTorch shape (C) is viewed as
// (1,C) to broadcast over a batch).
func (b *Bound) Node(p *Param, shape ...int) *G.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	if len(shape) == 0 {
		shape = p.Shape
	}
	size := 1
	for _, d := range shape {
		size *= d
	}
	if size != len(p.Data) {
		panic(graphError{fmt.Errorf("parameter %s: view %v does not hold %d elements", p.Name, shape, len(p.Data))})
	}
	n := G.NewTensor(b.G, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(p.Name), G.WithValue(p.tensorView(shape...)))
	b.nodes[p] = n
	b.order = append(b.order, p)
	return n
}

// Params returns the bound parameters in the order they were first used.
func (b *Bound) Params() []*Param { return b.order }

// IsInput reports whether n is a leaf of the graph that is not a bound
// parameter: data or noise fed from outside, whose gradient nothing needs.
func (b *Bound) IsInput(n *G.Node) bool {
	if n.Op() != nil {
		return false
	}
	for _, pn := range b.nodes {
		if pn == n {
			return false
		}
	}
	return true
}

// NodeOf returns p's node, or nil when no forward function used p.
func (b *Bound) NodeOf(p *Param) *G.Node { return b.nodes[p] }

// Input creates an input node of the given shape with its own storage; the
// returned slice is that storage, to be filled before each run.
func Input(g *G.ExprGraph, name string, shape ...int) (*G.Node, []float32) {
	size := 1
	for _, d := range shape {
		size *= d
	}
	data := make([]float32, size)
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t)), data
}

// graphError carries a graph-construction error through panics inside the
// builders; Build recovers it. Builders panic because every one of their
// failures is a shape mismatch, i.e. a bug in a model definition or a config
// that validation should have caught, and threading errors through every
// arithmetic line would hide the math.
type graphError struct{ err error }

// Must unwraps the result of a Gorgonia function (G.Add, G.ApplyOp, ...)
// inside a graph builder run by Build: it returns n, or on failure aborts the
// builder with err, which Build then returns.
func Must(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(graphError{err})
	}
	return n
}

// Fail aborts the graph builder run by Build with err, which Build returns:
// for a shape or configuration check of a builder that has no Gorgonia
// result to pass to Must.
func Fail(err error) {
	panic(graphError{err})
}

// Build runs a graph builder and turns a builder panic into an error.
func Build(what string, build func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			ge, ok := r.(graphError)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("building %s graph: %w", what, ge.err)
		}
	}()
	build()
	return nil
}
