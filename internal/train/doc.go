// Package train is genmodel's one training loop, shared by every model.
//
// A model plugs in by implementing Trainable: it owns its graphs and its
// optimizers and trains on one batch at a time. The loop owns everything
// around that: seeded data order, epochs, logging (a progress bar on a
// terminal, plain lines otherwise, metrics.jsonl always), a fixed-noise sample
// grid after each epoch, checkpoints after each epoch and on interrupt, and
// exact resumption.
//
// Exact resumption works because nothing random is carried in hidden state:
// the data order of epoch e is a pure function of (seed, e), the noise of step
// s comes from a generator seeded with (seed, s), and the weights and
// optimizer moments are saved bit for bit. A run stopped and resumed therefore
// ends with the same weights as one that never stopped.
package train
