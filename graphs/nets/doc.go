// Package nets holds genmodel's architectures and the graphs that train and
// sample them: the VAE, the semi-supervised VAE (SSVAE), the MLP GAN and the DCGAN (with the training steps
// of any Adversarial pair and their losses), the UNet of the diffusion model
// (NoiseGraph), RealNVP (MLP and multi-scale) and Glow, the evaluator's
// Classifier and the NoisyClassifier of classifier guidance.
//
// Each architecture owns a graphs.ParamSet named after the state_dict of its
// PyTorch reference, builds its forward pass from graphs/layers and
// graphs/ops, and its training and sampling graphs with graphs.Build, for
// the runtime (graphs.Compile) to run; internal/models drives them. They are
// separate from the layers so that a network's file reads as its
// architecture, and so that what only runs or saves graphs depends on the
// runtime alone.
package nets
