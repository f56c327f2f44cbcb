package vqvae

import (
	"testing"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/safetensors"
)

// TestVQVAEMatchesPyTorch loads the default VQ-VAE's state_dict, its codes
// set at encoder outputs of the test digits, into
// scripts/load_in_pytorch.py's VQVAE (strict=True) and compares the codes
// and the reconstructions of test digits.
func TestVQVAEMatchesPyTorch(t *testing.T) {
	m := modeltest.New(t, "vqvae", New, nil).(*VQVAE)
	const batch = 8
	_, te := modeltest.MNIST(t, batch, false)
	r, err := m.Net.BuildReconstruct(batch)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graphs.Compile(r.Bound, nil, graphs.Outputs{r.ZE, r.Out})
	if err != nil {
		t.Fatal(err)
	}
	copy(r.X, te.Pixels)
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	// Codes at the encoder's outputs of every third position, as restarts
	// would put them, so that many are picked.
	cb, ze, p := m.Net.Codebook, prog.Value(r.ZE), 49
	for k := 0; k < cb.K; k++ {
		i := 3*k + 1
		for c := 0; c < cb.D; c++ {
			cb.Embed.Data[k*cb.D+c] = ze[((i/p)*cb.D+c)*p+i%p]
		}
	}
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	codes := make([]float32, len(r.Codes.Index))
	for i, c := range r.Codes.Index {
		codes[i] = float32(c)
	}
	if len(distinctCodes(r.Codes.Index)) < 5 {
		t.Fatalf("only %d codes picked: the comparison would not see the quantizer", len(distinctCodes(r.Codes.Index)))
	}
	t.Logf("%d distinct codes over %d positions", len(distinctCodes(r.Codes.Index)), len(codes))
	tensors := append(modeltest.StateDict(m.Params()), safetensors.Tensor{Name: "input.x", Shape: []int{batch, 1, 28, 28}, Data: r.X})
	// The script reads files with unet_in_pytorch.py's loader, which
	// imports ddpm_ref.py.
	theirs := modeltest.RunPyTorch(t, "vqvae_in_pytorch.py", "ddpm_ref.py", tensors, "codes")
	if worst := modeltest.MaxAbsDiff(t, codes, theirs); worst != 0 {
		t.Fatalf("PyTorch picked other codes: ours %v, theirs %v", codes[:10], theirs[:10])
	}
	recon := modeltest.RunPyTorch(t, "vqvae_in_pytorch.py", "ddpm_ref.py", tensors, "recon")
	if worst := modeltest.MaxAbsDiff(t, prog.Value(r.Out), recon); worst > 1e-4 {
		t.Errorf("reconstructions differ from PyTorch's by up to %.3g", worst)
	}
}

func distinctCodes(idx []int32) map[int32]bool {
	seen := map[int32]bool{}
	for _, c := range idx {
		seen[c] = true
	}
	return seen
}
