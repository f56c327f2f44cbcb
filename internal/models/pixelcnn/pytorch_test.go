package pixelcnn

import (
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestPixelCNNMatchesPyTorch loads a conditional PixelCNN's state_dict
// into scripts/load_in_pytorch.py's GatedPixelCNN (strict=True) and
// compares the logits of two binarized test digits.
func TestPixelCNNMatchesPyTorch(t *testing.T) {
	m := load(t, set("pixelcnn.conditional", "true"), set("pixelcnn.layers", "3"))
	_, te := modeltest.MNIST(t, 2, true)
	s, err := m.Net.Build(2)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(s.Bound, nil, graphs.Outputs{s.Logits})
	if err != nil {
		t.Fatal(err)
	}
	s.SetBinary(te.Pixels)
	s.SetClasses([]int{3, 8})
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	ours := prog.Value(s.Logits)
	c := m.cfg
	arch := []float32{float32(c.Channels), float32(c.Layers), float32(c.FirstKernel), float32(c.Kernel), float32(c.Head), classes}
	tensors := append(modeltest.StateDict(m.Params()),
		safetensors.Tensor{Name: "arch", Shape: []int{len(arch)}, Data: arch},
		safetensors.Tensor{Name: "input.x", Shape: []int{2, 1, 28, 28}, Data: te.Pixels[:2*784]},
		safetensors.Tensor{Name: "input.y", Shape: []int{2}, Data: []float32{3, 8}})
	theirs := modeltest.RunPyTorch(t, "pixelcnn_in_pytorch.py", "", tensors, "logits")
	if worst := modeltest.MaxAbsDiff(t, ours, theirs); worst > 1e-4 {
		t.Errorf("logits differ from PyTorch's by up to %.3g", worst)
	}
}
