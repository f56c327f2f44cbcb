package graphs

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Keeping every op output of a run, as the arena did at first, kept a
// whole training step's activations and gradients alive between runs: most
// of a UNet step's memory. Most outputs are dead long before the run ends
// (a gradient once the next layer's is computed), so outputs whose
// lifetimes do not overlap can share storage. The plan below finds those
// lifetimes in the tape machine's compiled program, before the first run,
// so that no run ever holds more than the planned storage.
//
// Gorgonia's own register allocation already reuses a register once its
// value is dead, but it does not free or reuse the value's memory, and its
// ops may write into a dead value in place (UsePreallocDo), return views of
// their inputs or overwrite them (UnsafeDo). The plan follows every value
// through the registers: an output is alive from the instruction that
// makes it to the last instruction that reads, or may write into, a
// register holding it or anything derived from it by a Gorgonia op.

// ArenaOp is an op whose Do takes its one output from NewOutput, calling it
// exactly once per run, and reads nothing of other ops' outputs but its
// inputs: the ops whose outputs a Program plans and shares. Every other op
// is treated as one that may alias or overwrite any value it touches.
type ArenaOp interface {
	G.Op
	ArenaOutput()
}

// outputPlan places the i-th NewOutput call of a run in the arena's
// storage.
type outputPlan struct {
	size   []int // elements of output i, from its op's shape
	offset []int // where output i starts in the storage
	total  int   // elements of storage the outputs need
}

// alignUp rounds an output's size up to whole 4 KiB pages of float32s, so
// that every output starts on a page, as one allocated apart would.
func alignUp(n int) int { return (n + 1023) &^ 1023 }

// sharedOutputs switches the plan off when false (SetOutputSharing).
var sharedOutputs = true

// SetOutputSharing chooses whether programs compiled from now on share
// storage between op outputs whose lifetimes do not overlap (the default)
// or keep every output apart, as a reference for tests: the results are
// the same either way, bit for bit.
func SetOutputSharing(on bool) { sharedOutputs = on }

// planOutputs reads the compiled program of m and places the outputs of
// its ArenaOps in shared storage. A program holding an instruction it does
// not know is an error (Compile fails): the plan could not be trusted.
func planOutputs(m G.VM) (*outputPlan, error) {
	instrs, err := tapeInstructions(m)
	if err != nil {
		return nil, err
	}
	const never = math.MaxInt
	var (
		plan  outputPlan
		start []int             // instruction that makes output i
		last  []int             // last instruction that uses it
		regs  = map[int][]int{} // outputs a register's value may hold
	)
	use := func(k int, outs []int) {
		for _, o := range outs {
			last[o] = max(last[o], k)
		}
	}
	for k, in := range instrs {
		for _, r := range in.reads {
			use(k, regs[r])
		}
		if in.write < 0 {
			continue
		}
		if a, ok := in.op.(ArenaOp); ok {
			shape, err := opShape(a)
			if err != nil {
				return nil, err
			}
			o := len(plan.size)
			plan.size = append(plan.size, shape.TotalSize())
			start, last = append(start, k), append(last, k)
			regs[in.write] = []int{o}
			continue
		}
		// Any other op's value may be, or view, any value it reads, and
		// may have been written into the value its register held.
		held := regs[in.write]
		use(k, held)
		for _, r := range in.reads {
			held = union(held, regs[r])
		}
		if _, ok := in.op.(G.Iop); ok {
			// The machine adds an Iop gradient into its dual value
			// after the run.
			for _, o := range held {
				last[o] = never
			}
		}
		regs[in.write] = held
	}
	// Outputs are laid out in one buffer, largest first, each at the
	// lowest offset where it overlaps no output already placed that is
	// alive at the same time: near the most storage alive at once, where
	// a slot per output chain wastes what a slot's large outputs leave
	// unused while its small ones are alive.
	order := make([]int, len(plan.size))
	for o := range order {
		order[o] = o
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(plan.size[b], plan.size[a]) })
	plan.offset = make([]int, len(plan.size))
	var placed, overlapping []int
	for _, o := range order {
		n := alignUp(plan.size[o])
		overlapping = overlapping[:0]
		for _, q := range placed {
			if last[q] >= start[o] && last[o] >= start[q] {
				overlapping = append(overlapping, q)
			}
		}
		slices.SortFunc(overlapping, func(a, b int) int { return cmp.Compare(plan.offset[a], plan.offset[b]) })
		at := 0
		for _, q := range overlapping {
			if plan.offset[q]-at >= n {
				break
			}
			at = max(at, plan.offset[q]+alignUp(plan.size[q]))
		}
		plan.offset[o] = at
		plan.total = max(plan.total, at+n)
		placed = append(placed, o)
	}
	return &plan, nil
}

// union is a with the elements of b it lacks.
func union(a, b []int) []int {
	out := append([]int(nil), a...)
	for _, x := range b {
		found := false
		for _, y := range a {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			out = append(out, x)
		}
	}
	return out
}

// opShape is the shape of an op's output as its Do asks NewOutput for it.
func opShape(op G.Op) (tensor.Shape, error) {
	s, ok := op.(interface {
		InferShape(...G.DimSizer) (tensor.Shape, error)
	})
	if !ok {
		return nil, fmt.Errorf("op %v infers no shape", op)
	}
	return s.InferShape()
}

// instr is what the plan needs of one instruction of a tape machine: the
// registers it reads, the one it writes (-1: none) and, for an executed op,
// the op.
type instr struct {
	reads []int
	write int
	op    G.Op
}

// tapeInstructions reads the program of a Gorgonia v0.9.18 tape machine,
// which keeps it unexported: instruction types, their register fields and
// what each does are that version's (vm_tape.go).
func tapeInstructions(m G.VM) ([]instr, error) {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("plan: %T is not a tape machine", m)
	}
	p := v.Elem().FieldByName("p")
	if !p.IsValid() || p.Kind() != reflect.Pointer || p.IsNil() {
		return nil, fmt.Errorf("plan: %T has no program", m)
	}
	list := p.Elem().FieldByName("instructions")
	if !list.IsValid() || list.Kind() != reflect.Slice {
		return nil, fmt.Errorf("plan: the program has no instructions")
	}
	out := make([]instr, list.Len())
	for k := range out {
		iv := list.Index(k)
		for iv.Kind() == reflect.Interface || iv.Kind() == reflect.Pointer {
			iv = iv.Elem()
		}
		in := instr{write: -1}
		var err error
		switch iv.Type().Name() {
		case "execOp":
			if in.reads, err = registers(iv, "readFrom"); err == nil {
				in.write, err = register(iv.FieldByName("writeTo"))
			}
			if err == nil {
				in.op, _ = exported(iv.FieldByName("op")).Interface().(G.Op)
				if in.op == nil {
					err = fmt.Errorf("no op")
				}
			}
		case "alloc", "letInstr":
			if in.reads, err = registers(iv, "readFrom"); err == nil {
				in.write, err = register(iv.FieldByName("writeTo"))
			}
		case "loadArg":
			in.write, err = register(iv.FieldByName("writeTo"))
		case "deviceTransport":
			if in.reads, err = registers(iv, "from"); err == nil {
				in.write, err = register(iv.FieldByName("to"))
			}
		case "readInstr":
			in.reads, err = registers(iv, "readFrom")
		case "free":
			in.reads, err = registers(iv, "readsFrom")
		case "flushInstr":
		default:
			err = fmt.Errorf("unknown instruction")
		}
		if err != nil {
			return nil, fmt.Errorf("plan: instruction %d (%s): %w", k, iv.Type(), err)
		}
		out[k] = in
	}
	return out, nil
}

// registers reads a register or a slice of them from field name of a
// struct value.
func registers(v reflect.Value, name string) ([]int, error) {
	f := v.FieldByName(name)
	if f.Kind() != reflect.Slice {
		r, err := register(f)
		return []int{r}, err
	}
	rs := make([]int, f.Len())
	for i := range rs {
		r, err := register(f.Index(i))
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, nil
}

// register is the number of a CPU register (-1 for none, Gorgonia's
// register{-1, CPU}); a register on another device is an error.
func register(v reflect.Value) (int, error) {
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return 0, fmt.Errorf("no register")
	}
	id, dev := v.FieldByName("id"), v.FieldByName("device")
	if !id.IsValid() || !dev.IsValid() || !id.CanInt() || !dev.CanInt() {
		return 0, fmt.Errorf("register %s has no id or device", v.Type())
	}
	if dev.Int() != int64(G.CPU) {
		return 0, fmt.Errorf("register on device %d", dev.Int())
	}
	return int(id.Int()), nil
}

// exported is an addressable unexported field made readable.
func exported(f reflect.Value) reflect.Value {
	if f.CanInterface() {
		return f
	}
	if !f.CanAddr() {
		return reflect.Value{}
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}
