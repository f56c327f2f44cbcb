// Package ops holds genmodel's own Gorgonia ops. Each is a G.Op whose
// gradient is more ops of its own (G.SDOp), that works on the float32
// storage of its inputs directly and takes its output from the running
// Program's arena (graphs.NewOutput). They replace Gorgonia ops that are
// slow (Linear and Conv2d fused with their bias, ReLU, SiLU and Softplus in
// one pass, a Bernoulli decoder's cross-entropy summed per image, the
// channel copies of a U-Net), that Gorgonia lacks (ConvTranspose2d,
// RealNVP's and Glow's couplings, RealNVP's checkerboard mask, Glow's squeeze,
// ActNorm (alone and fused with ReLU) and prior, the VQ-VAE's nearest-code
// quantizer with its straight-through gradient, and the stop gradient) or that
// it gets wrong (Reshape, which aliases its input; GroupNorm, which logs
// every backward call; BatchNorm, whose running statistics cannot be
// checkpointed; LogSoftMax, which shifts each row by the wrong maximum and
// so returns -Inf for rows far from the matrix's first logit).
//
// The functions check shapes when the graph is built and abort the builder
// through graphs.Fail: call them inside graphs.Build. The package also holds
// the Go side of the kernels the ops run (im2col, Winograd's F(2x2, 3x3), the
// split over two goroutines); the assembly is in internal/blas32 and
// internal/vec32. Every op's values and gradients are checked by the tests,
// against Gorgonia's own ops or finite differences.
//
// Every op is a graphs.ArenaOp: its Do calls graphs.NewOutput exactly once,
// and it reads other ops' outputs only through its inputs, never through
// state kept from an earlier call (what a forward op keeps for its backward
// op, such as SiLU's sigmoid, is storage of its own). A Program relies on
// this to let outputs whose lifetimes do not overlap share storage.
//
// Ops are separate from the layers because they hold no parameters: a layer
// (graphs/layers) binds its parameters on the graph and passes their nodes
// to an op, and an architecture may apply an op directly.
package ops
