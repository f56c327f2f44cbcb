package graphs

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Param is one learnable tensor, named by its PyTorch state_dict key and
// stored in PyTorch's layout.
type Param struct {
	Name  string
	Shape []int
	Data  []float32 // the live storage; graphs and optimizers share it
}

// Size is the number of elements.
func (p *Param) Size() int { return len(p.Data) }

// ParamSet is an ordered collection of parameters: the order is the
// state_dict order, which is also the order checkpoints are written in.
type ParamSet struct {
	list   []*Param
	byName map[string]*Param
}

// NewParamSet returns an empty set.
func NewParamSet() *ParamSet { return &ParamSet{byName: map[string]*Param{}} }

// Add creates a zero-filled parameter. Names must be unique: a duplicate is a
// programming error in a model definition, so it panics.
func (s *ParamSet) Add(name string, shape ...int) *Param {
	if _, dup := s.byName[name]; dup {
		panic(fmt.Sprintf("graphs: duplicate parameter %q", name))
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	p := &Param{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, n)}
	s.list = append(s.list, p)
	s.byName[name] = p
	return p
}

// Prefix renames every parameter to prefix+name, as a PyTorch module nested
// under an attribute (an EMA copy of a network saved beside it as "ema.").
func (s *ParamSet) Prefix(prefix string) {
	s.byName = make(map[string]*Param, len(s.list))
	for _, p := range s.list {
		p.Name = prefix + p.Name
		s.byName[p.Name] = p
	}
}

// List returns the parameters in state_dict order.
func (s *ParamSet) List() []*Param { return s.list }

// Get returns the parameter with the given name.
func (s *ParamSet) Get(name string) (*Param, bool) {
	p, ok := s.byName[name]
	return p, ok
}

// Count is the total number of scalar parameters.
func (s *ParamSet) Count() int {
	n := 0
	for _, p := range s.list {
		n += len(p.Data)
	}
	return n
}

// tensorView wraps the parameter's storage in a tensor of the given shape
// without copying: the graph reads and the optimizer writes the same floats.
func (p *Param) tensorView(shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(p.Data))
}
