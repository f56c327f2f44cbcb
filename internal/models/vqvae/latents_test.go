package vqvae

import (
	"slices"
	"testing"

	"github.com/genmodel/genmodel/internal/models/modeltest"
)

// TestLatentsRoundTrip checks what latent diffusion relies on: the
// latents' layout, their nearest codes being the quantizer's own, and
// decoding a latent giving the VQ-VAE's reconstruction.
func TestLatentsRoundTrip(t *testing.T) {
	m := trainedAE(t, "3")
	tr, _ := modeltest.MNIST(t, 1, false)
	const n = 37
	c, l := m.LatentShape()
	if c != 4 || l != 7 {
		t.Fatalf("latent shape %dx%dx%d, want 4x7x7", c, l, l)
	}
	z, err := m.EncodeLatents(tr.Pixels, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(z) != n*c*l*l {
		t.Fatalf("%d latent values, want %d", len(z), n*c*l*l)
	}
	near, err := m.NearestCodes(z, n)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := m.EncodeCodes(tr.Pixels, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(near, codes) {
		t.Error("the nearest codes of the latents are not the quantizer's codes")
	}
	dec, err := m.DecodeLatents(z, n, true)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.reconstruct(tr.Pixels, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dec.Pix, rec.Pix) {
		t.Error("decoding the quantized latents does not give the reconstructions")
	}
	// Unquantized, the decoder takes the latents themselves: the codes'
	// own vectors decode as the codes do.
	q := make([]float32, len(z))
	m.Net.Codebook.Lookup(codes, l*l, q)
	direct, err := m.DecodeLatents(q, n, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(direct.Pix, rec.Pix) {
		t.Error("decoding the codes' vectors unquantized does not give the reconstructions")
	}
	if _, err := m.DecodeLatents(q[1:], n, false); err == nil {
		t.Error("a short latent decoded")
	}
	for _, bad := range []struct {
		values, n int
	}{{len(z) - 1, n}, {len(z), n + 1}} {
		if _, err := m.NearestCodes(z[:bad.values], bad.n); err == nil {
			t.Errorf("%d values taken as %d latents", bad.values, bad.n)
		}
	}
	if _, err := m.EncodeLatents(tr.Pixels[:100], 1); err == nil {
		t.Error("100 pixels encoded as an image")
	}
	if norms := m.CodeNorms(); len(norms) != m.Net.Codebook.K {
		t.Errorf("%d code norms for %d codes", len(norms), m.Net.Codebook.K)
	}
}
