// Package all is the list of genmodel's models: importing it registers
// them. A new model is a row in the table below.
package all

import (
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/classifiers"
	"github.com/genmodel/genmodel/internal/models/ddpm"
	"github.com/genmodel/genmodel/internal/models/flow"
	"github.com/genmodel/genmodel/internal/models/gan"
	"github.com/genmodel/genmodel/internal/models/pixelcnn"
	"github.com/genmodel/genmodel/internal/models/ssvae"
	"github.com/genmodel/genmodel/internal/models/vae"
	"github.com/genmodel/genmodel/internal/models/vqvae"
)

// entries are the models, by name: each its name (as --model and
// configs/NAME.yaml spell it), the function that builds it, the trained
// models it builds on, and the one-line summary `genmodel models` prints. A
// new model is a row here.
var entries = []models.Entry{
	{Name: "classifier", Build: classifiers.NewClassifier,
		Summary: "convolutional MNIST classifier (conv32-conv64-fc128-fc10), the evaluator's feature network"},
	{Name: "dcgan", Build: gan.NewDCGAN,
		Summary: "a convolutional GAN for 28x28 (resize-conv or transposed-conv G, strided-conv D, batch norm, DCGAN init); the GAN options of gan"},
	{Name: "ddpm", Build: ddpm.New, Needs: []models.Dependency{ddpm.ClassifierDependency, ddpm.WeakModelDependency},
		Summary: "denoising diffusion (T=1000; v, eps or x0 prediction; Min-SNR or simple loss; cosine or linear betas) with the UNet-S network, EMA weights, DDPM, DDIM, DPM-Solver++, Euler and Heun samplers"},
	{Name: "gan", Build: gan.NewGAN,
		Summary: "the seed's MLP GAN (G 100-256-512-1024-784, D 784-512-256-1); bce, minimax, wgan or hinge loss, spectral norm, label smoothing, instance noise, conditional"},
	{Name: "glow", Build: flow.NewGlow,
		Summary: "Glow: 2 levels of ActNorm, LU 1x1 convolution and conv affine coupling, split with a learned prior; exact bits/dim"},
	{Name: "ldm", Build: ddpm.NewLatent, Needs: []models.Dependency{ddpm.LatentAutoencoderDependency},
		Summary: "latent diffusion (Rombach et al. 2022): the ddpm's diffusion, samplers and classifier-free guidance over a trained VQ-VAE's 16x7x7 latents, scaled to unit variance and decoded through its codebook"},
	{Name: "noisy-classifier", Build: classifiers.NewNoisy,
		Summary: "p(y | x_t, t) on noised MNIST digits, the classifier of ddpm's classifier guidance"},
	{Name: "pixelcnn", Build: pixelcnn.New,
		Summary: "gated PixelCNN (van den Oord et al. 2016) on binarized MNIST: vertical and horizontal stacks, masks A and B, optional class conditioning; exact test NLL in nats, pixel-by-pixel samples"},
	{Name: "realnvp", Build: flow.NewRealNVP,
		Summary: "RealNVP: 8 MLP affine couplings with alternating pixel masks (arch mlp) or the multi-scale conv-ResNet couplings of Dinh et al. (arch multiscale); dequantization + logit, exact bits/dim"},
	{Name: "ssvae", Build: ssvae.New, Needs: []models.Dependency{ssvae.M1Dependency},
		Summary: "semi-supervised VAE, Kingma et al. 2014's M2: q(y|x), q(z|x,y), p(x|y,z) MLPs (784-500-z50), 100 labels; test error of q(y|x), class-conditional samples, analogies; M1+M2 over a trained VAE's latents (features m1)"},
	{Name: "vae", Build: vae.New,
		Summary: "variational autoencoder, the seed's 784-256-128-z20 MLP (Gaussian or Bernoulli decoder, beta, KL warm-up, free bits)"},
	{Name: "vqvae", Build: vqvae.New, Needs: []models.Dependency{vqvae.CodePriorDependency},
		Summary: "VQ-VAE: conv encoder to a 7x7 grid of codes (K=128, D=16), EMA codebook with dead-code restarts, commitment beta 0.25; test MSE, perplexity, codes used; samples decode codes drawn from its vqvae-prior, or independently per position"},
	{Name: "vqvae-prior", Build: vqvae.NewPrior, Needs: []models.Dependency{vqvae.AutoencoderDependency},
		Summary: "the VQ-VAE's second stage: a gated PixelCNN over its 7x7 grids of codes (a softmax over 128 codes a position); exact test NLL of the codes, new digits drawn code by code and decoded"},
}

func init() {
	for _, e := range entries {
		models.Register(e)
	}
}
