package all

import (
	"math"
	"testing"

	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/modeltest"
	"github.com/genmodel/genmodel/internal/sample"
)

// Hand counts of the multiply-accumulates per image of the default
// configurations' convolution and linear layers, from the PyTorch
// references' layer lists. dense is a linear layer; conv a convolution by
// its output side (k x k kernels).
func dense(in, out int) int64           { return int64(in) * int64(out) }
func conv(cin, cout, k, side int) int64 { return int64(cin*cout*k*k) * int64(side*side) }

func sum(xs ...int64) (s int64) {
	for _, x := range xs {
		s += x
	}
	return s
}

// ganStep is the MACs per image of one D step and one G step of a GAN whose
// generator's forward pass costs g (gFirst for its first layer, on the
// noise) and whose discriminator's costs d (dFirst on the images). D step:
// G forward, D forward and dL/dW on the real and the generated batch, and
// dL/dx of D's layers but the first. G step: G and D forward, dL/dx through
// D (all layers: G needs it), dL/dW and dL/dx of G (but the first).
func ganStep(g, gFirst, d, dFirst int64) int64 {
	return g + 2*d + 2*d + 2*(d-dFirst) + g + d + d + g + (g - gFirst)
}

// TestStepFLOPs checks the FLOPs per image that the benchmarks report
// (stepFLOPs, from the ops' own count) against hand counts of the default
// configurations, and UNet-S against the 0.2106 GFLOP per image of its
// forward pass that the reference's layers give.
func TestStepFLOPs(t *testing.T) {
	const batch = 4
	// The seed VAE: 784-256-128, z 20, and back.
	vaeFirst := dense(784, 256)
	vaeDecoder := sum(dense(20, 128), dense(128, 256), dense(256, 784))
	vae := sum(vaeFirst, dense(256, 128), dense(128, 20), dense(128, 20)) + vaeDecoder
	// UNet-S of ddpm_ref.py, c = 32, temb 128: (cin, cout) of each residual
	// block at its side, its two 3x3 convolutions, its linear map of the
	// time embedding, and a 1x1 skip when the channels change.
	res := func(cin, cout, side int) int64 {
		m := conv(cin, cout, 3, side) + dense(128, cout) + conv(cout, cout, 3, side)
		if cin != cout {
			m += conv(cin, cout, 1, side)
		}
		return m
	}
	inc, temb0 := conv(1, 32, 3, 28), dense(32, 128)
	unet := sum(temb0, dense(128, 128), inc,
		res(32, 32, 28), conv(32, 32, 3, 14), // d1, down1
		res(32, 64, 14), conv(64, 64, 3, 7), // d2, down2
		res(64, 64, 7), res(64, 64, 7), // m1, m2
		conv(64, 64, 3, 14), res(128, 64, 14), // up2, u2
		conv(64, 32, 3, 28), res(64, 32, 28), // up1, u1
		conv(32, 1, 3, 28)) // out.2
	// The seed GAN: G 100-256-512-1024-784, D 784-512-256-1.
	ganG := sum(dense(100, 256), dense(256, 512), dense(512, 1024), dense(1024, 784))
	ganD := sum(dense(784, 512), dense(512, 256), dense(256, 1))
	// The default DCGAN (c 64, hidden 1024 both sides, resize upsampling):
	// G z -> 1024 -> 128x7x7, 3x3 convolutions 128->64 at 14, 64->32 and
	// 32->1 at 28; D 4x4 stride-2 convolutions 1->64 (14), 64->128 (7),
	// 6272 -> 1024 -> 1.
	dcG := sum(dense(100, 1024), dense(1024, 128*49), conv(128, 64, 3, 14), conv(64, 32, 3, 28), conv(32, 1, 3, 28))
	dcD := sum(conv(1, 64, 4, 14), conv(64, 128, 4, 7), dense(128*49, 1024), dense(1024, 1))
	// The default Glow (2 levels of 8 steps, hidden 64): at level 1, 4
	// channels at 14x14; at level 2, 8 at 7x7. A step: the 1x1 convolution
	// c->c and the coupling network c/2 -3x3-> 64 -1x1-> 64 -3x3-> c; the
	// split's prior a 3x3 convolution 2 -> 4 at 14x14.
	glowStep := func(c, side int) int64 {
		return sum(conv(c, c, 1, side), conv(c/2, 64, 3, side), conv(64, 64, 1, side), conv(64, c, 3, side))
	}
	glow := 8*glowStep(4, 14) + conv(2, 4, 3, 14) + 8*glowStep(8, 7)
	// The default VQ-VAE (c 64, residual width 32, 2 blocks, D 16): 4x4
	// stride-2 convolutions 1->64 (14) and 64->64 (7), a 3x3 64->64 and
	// the blocks' 3x3 64->32 and 1x1 32->64 at 7, the 1x1 64->16; the
	// decoder a 3x3 16->64 and the blocks at 7, and 4x4 stride-2
	// transposed convolutions 64->64 and 64->1, counted by their input
	// sides 7 and 14. The nearest-code search is no multiply-accumulate of
	// a layer.
	vqRes := 2 * (conv(64, 32, 3, 7) + conv(32, 64, 1, 7))
	vqFirst := conv(1, 64, 4, 14)
	vq := sum(vqFirst, conv(64, 64, 4, 7), conv(64, 64, 3, 7), vqRes, conv(64, 16, 1, 7),
		conv(16, 64, 3, 7), vqRes, conv(64, 64, 4, 7), conv(64, 1, 4, 14))
	// The default PixelCNN (C 32, 6 layers, kernels 7 then 3, head 64) at
	// 28x28: each layer's vertical k x k convolution over the 28+k/2 rows
	// of its top-padded input, the 1x1 link 2C->2C, the horizontal (1, m)
	// convolution as a 1x1 over its m shifted copies (m = 3, then 2), and
	// the 1x1 C->C after the gate; the head 1x1s 32->64->1. The first
	// layer's two convolutions read the images: no dL/dx.
	rect := func(cin, cout, k, h, w int) int64 { return int64(cin*cout*k*k) * int64(h*w) }
	pcFirst := rect(1, 64, 7, 31, 28) + conv(3, 64, 1, 28)
	pcLayer := func(cin, k, m int) int64 {
		return rect(cin, 64, k, 28+k/2, 28) + conv(64, 64, 1, 28) + conv(cin*m, 64, 1, 28) + conv(32, 32, 1, 28)
	}
	pc := pcLayer(1, 7, 3) + 5*pcLayer(32, 3, 2) + conv(32, 64, 1, 28) + conv(64, 1, 1, 28)

	cases := []struct {
		name string
		got  func() float64
		macs int64
	}{
		// A training step: forward, dL/dW and dL/dx of every layer, but no
		// dL/dx of a layer on data or noise.
		{"vae train", func() float64 { return newTrainer(t, "vae", batch).flops() }, 3*vae - vaeFirst},
		{"vae sample", func() float64 {
			m, req := newModel(t, "vae"), sample.Request{N: sample.ChunkSize, Class: -1, Code: -1}
			return stepFLOPs(func() {
				if _, err := models.Draw(m, "vae", req, modeltest.RNG(3)); err != nil {
					t.Fatal(err)
				}
			}, sample.ChunkSize)
		}, vaeDecoder},
		{"gan train", func() float64 { return newTrainer(t, "gan", batch).flops() }, ganStep(ganG, dense(100, 256), ganD, dense(784, 512))},
		{"dcgan train", func() float64 { return newTrainer(t, "dcgan", batch).flops() }, ganStep(dcG, dense(100, 1024), dcD, conv(1, 64, 4, 14))},
		{"unet train", func() float64 { return newTrainer(t, "ddpm", batch).flops() }, 3*unet - inc - temb0},
		{"unet sample", func() float64 {
			s := newUNetSampler(t, batch)
			return stepFLOPs(func() { s.reverseStep(500) }, batch)
		}, unet},
		{"glow train", func() float64 { return newTrainer(t, "glow", batch).flops() }, 3 * glow},
		// The straight-through gradient reaches the encoder: dL/dx of every
		// layer but the first.
		{"vqvae train", func() float64 { return newTrainer(t, "vqvae", batch).flops() }, 3*vq - vqFirst},
		{"pixelcnn train", func() float64 { return newTrainer(t, "pixelcnn", batch).flops() }, 3*pc - pcFirst},
	}
	for _, c := range cases {
		if got, want := c.got(), 2*float64(c.macs); got != want {
			t.Errorf("%s: %.0f FLOP per image counted, %.0f by hand", c.name, got, want)
		}
	}
	if f := 2 * float64(unet) / 1e9; math.Abs(f-0.2106) > 0.00005 {
		t.Errorf("UNet-S forward: %.5f GFLOP per image, the issue counts 0.2106", f)
	}
}
