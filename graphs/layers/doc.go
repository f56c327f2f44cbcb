// Package layers holds the building blocks with parameters of genmodel's
// networks, each PyTorch's module of the same name with its state_dict names,
// layouts and default initialization: Linear (and MLP), Conv2d,
// ConvTranspose2d, GroupNorm, BatchNorm, spectral normalization, and Glow's
// ActNorm and invertible 1x1 convolution; with them MaxPool2, the sinusoidal
// TimestepEmbedding of diffusion models and the initializers UniformInit and
// NormalInit.
//
// A layer adds its parameters to a graphs.ParamSet when it is created, and
// its Forward binds them on a graph (graphs.Bound) and applies an op of
// graphs/ops. Layers are separate from the ops, which hold no parameters, and
// from the architectures of graphs/nets, which compose them: the same layers
// serve every architecture.
package layers
