// Package graphs is the runtime of genmodel's networks, which are Gorgonia
// computation graphs: learnable parameters that own their float32 storage
// (Param, ParamSet), their binding onto a graph (Bind, Bound, Input), graph
// builders that fail by panicking (Build, Must, Fail), and the compiled
// program that runs a graph and reports its outputs and gradients (Compile,
// CompileWRT, Program), with the arena its ops take their outputs from
// (NewOutput): Compile plans it from the compiled program, so that outputs
// whose lifetimes do not overlap share storage, and programs that take
// turns share it too (ArenaOp, plan.go). Importing it installs the
// project's sgemm as Gorgonia's BLAS.
//
// The networks themselves are in sub-packages, each importing only the ones
// above it in this list:
//
//	graphs/ops     the project's own Gorgonia ops, with their gradients
//	graphs/layers  layers with parameters (Linear, Conv2d, GroupNorm, ...)
//	graphs/nets    the architectures and their training and sampling graphs
//
// so that code that only runs, trains or saves graphs (the training loop,
// checkpoints) depends on this package alone.
//
// A model is a struct of learnable parameters (a ParamSet) plus functions
// that build its forward pass on a given *gorgonia.ExprGraph. Parameters own
// their float32 storage; every graph binds them by value (Bind), so a training
// graph at batch 128 and a sampling graph at batch 16 see the same weights,
// and an optimizer that updates the storage in place updates both.
//
// Parameters are named by the keys of the PyTorch state_dict of the seed's
// module for that model, with PyTorch's layouts (a Linear weight is (out, in)),
// so a checkpoint written from a ParamSet loads into PyTorch with
// load_state_dict(strict=True).
//
// Gorgonia v0.9.18 has silent bugs (see the project notes); these packages
// avoid G.Reshape (it aliases its input: ops.Reshape copies) and InverseSqrt,
// and read values only through G.Read outputs (Program.Value): an
// intermediate's storage is reused within the run.
package graphs
