package graphs

import (
	"fmt"
	"runtime"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program is a graph compiled into a Gorgonia tape machine, with the inputs
// it is fed, the outputs it reports and, for a training graph, the gradient
// of its loss with respect to every bound parameter.
type Program struct {
	bound   *Bound
	machine G.VM
	wrt     []*Param
	grads   [][]float32 // grads[i] is the live gradient storage of wrt[i]
	outputs map[*G.Node]*G.Value
	arena   arena // the ops' outputs, reused run after run
}

// Outputs names the nodes whose values a Program reports after each run.
type Outputs []*G.Node

// Compile builds the tape machine for b's graph. If loss is non-nil, it adds
// the backward pass for every parameter bound on the graph. The outputs are
// copied out when they are produced (G.Read), because the tape machine may
// reuse an intermediate's register later in the same run.
func Compile(b *Bound, loss *G.Node, outputs Outputs) (p *Program, err error) {
	var wrt []*Param
	if loss != nil {
		wrt = b.Params()
	}
	return CompileWRT(b, loss, outputs, wrt)
}

// CompileWRT is Compile differentiating only the parameters in wrt: a GAN's
// discriminator step uses the generator's weights without training them.
func CompileWRT(b *Bound, loss *G.Node, outputs Outputs, wrt []*Param) (p *Program, err error) {
	p = &Program{bound: b, outputs: map[*G.Node]*G.Value{}}
	err = Build("compile", func() {
		var roots []*G.Node
		for _, n := range outputs {
			v := new(G.Value)
			roots = append(roots, G.Read(n, v))
			p.outputs[n] = v
		}
		if loss != nil {
			roots = append(roots, loss)
		}
		var opts []G.VMOpt
		if loss != nil && len(wrt) > 0 {
			p.wrt = wrt
			nodes := make([]*G.Node, len(p.wrt))
			for i, prm := range p.wrt {
				if nodes[i] = b.nodes[prm]; nodes[i] == nil {
					panic(graphError{fmt.Errorf("parameter %s is not used by this graph", prm.Name)})
				}
			}
			grads, err := G.Grad(loss, nodes...)
			if err != nil {
				panic(graphError{err})
			}
			roots = append(roots, grads...)
			opts = append(opts, G.BindDualValues(nodes...))
		}
		// Only what the outputs, the loss and the wanted gradients depend on
		// is run: Gorgonia's symbolic differentiation also builds gradients
		// of the parameters not in wrt (a GAN's discriminator weights in the
		// generator's step), a tenth of a DCGAN step spent for nothing.
		m := G.NewTapeMachine(b.G.ExactSubgraphRoots(roots...), opts...)
		// The tape machine sets a finalizer that frees CUDA memory and does
		// nothing in a build without CUDA, as this one is. An object with a
		// finalizer outlives the collection that finds it unreachable, and
		// so does everything it reaches: the graph, every node's last value
		// and so the whole arena. A dropped program then counted as live at
		// that collection, the heap goal doubled, and a program built after
		// it (a benchmark's second run, a sampler after training) grew the
		// heap to both programs' outputs before anything was freed.
		runtime.SetFinalizer(m, nil)
		p.machine = m
		if sharedOutputs {
			plan, err := planOutputs(m)
			if err != nil {
				panic(graphError{err})
			}
			p.arena.plan = plan
		}
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Run executes the graph once. For a training program it first zeroes the
// gradients, because Gorgonia's dual values accumulate across runs.
func (p *Program) Run() error {
	if p.grads != nil {
		for _, g := range p.grads {
			clear(g)
		}
	}
	running.Lock()
	if pl := p.arena.plan; pl != nil && len(store) < pl.total {
		store = make([]float32, pl.total)
	}
	p.arena.next = 0
	active = &p.arena
	err := p.machine.RunAll()
	p.machine.Reset()
	active = nil
	running.Unlock()
	if err != nil {
		return fmt.Errorf("running graph: %w", err)
	}
	if a := &p.arena; a.err == nil && a.plan != nil && a.next != len(a.plan.size) {
		a.err = fmt.Errorf("the run made %d op outputs, the plan %d", a.next, len(a.plan.size))
	}
	if p.arena.err != nil {
		return fmt.Errorf("running graph: %w", p.arena.err)
	}
	if p.wrt != nil && p.grads == nil {
		if err := p.collectGrads(); err != nil {
			return err
		}
	}
	return nil
}

// collectGrads finds the gradient storage of each parameter after the first
// run; Gorgonia keeps and accumulates into the same tensors afterwards.
func (p *Program) collectGrads() error {
	p.grads = make([][]float32, len(p.wrt))
	for i, prm := range p.wrt {
		gv, err := p.bound.nodes[prm].Grad()
		if err != nil {
			return fmt.Errorf("gradient of %s: %w", prm.Name, err)
		}
		d, ok := gv.(*tensor.Dense)
		if !ok {
			return fmt.Errorf("gradient of %s is %T, not a dense tensor", prm.Name, gv)
		}
		g, ok := d.Data().([]float32)
		if !ok || len(g) != len(prm.Data) {
			return fmt.Errorf("gradient of %s has %d elements, want %d", prm.Name, d.Size(), len(prm.Data))
		}
		p.grads[i] = g
	}
	return nil
}

// Params returns the parameters the program differentiates, in the order of
// Grads.
func (p *Program) Params() []*Param { return p.wrt }

// Grads returns the gradient storage of each parameter after a Run; it is
// overwritten by the next Run.
func (p *Program) Grads() [][]float32 { return p.grads }

// Value returns the float32 values of a watched output after a Run, valid
// until the next Run.
func (p *Program) Value(n *G.Node) []float32 {
	v, ok := p.outputs[n]
	if !ok || *v == nil {
		return nil
	}
	switch x := (*v).(type) {
	case *tensor.Dense:
		return x.Data().([]float32)
	case *G.F32:
		return []float32{float32(*x)}
	}
	return nil
}

// Scalar returns a watched scalar output.
func (p *Program) Scalar(n *G.Node) float64 {
	v := p.Value(n)
	if len(v) == 0 {
		return 0
	}
	return float64(v[0])
}

// Close releases the machine.
func (p *Program) Close() error {
	p.arena.bufs, p.arena.base = nil, nil
	return p.machine.Close()
}
