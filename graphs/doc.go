// Package graphs holds genmodel's networks as Gorgonia computation graphs.
//
// A model is a struct of learnable parameters (see ParamSet) plus functions
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
// Gorgonia v0.9.18 has silent bugs (see the project notes); this package avoids
// G.Reshape (it aliases its input) and InverseSqrt, and reads values through
// the graph's own nodes only after a run.
package graphs
