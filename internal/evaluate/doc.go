// Package evaluate measures generated images against real ones in the
// feature space of genmodel's MNIST classifier.
//
// On MNIST, Inception features are the wrong tool; the accepted practice is
// to compare distributions in the features of a classifier trained on MNIST.
// The figures are comparable only between evaluations that use the same
// feature network, and FID is biased upward at small sample sizes, so every
// report states the classifier and the number of images.
//
//   - FID: the Fréchet distance between Gaussians fitted to the two feature
//     sets (Heusel et al. 2017).
//   - Coverage: the histogram of predicted classes, how many of the ten
//     appear, its entropy, and the mean top-class probability.
//   - Precision and recall (Kynkäänniemi et al. 2019): the share of generated
//     images inside the real data's k-nearest-neighbour manifold (fidelity),
//     and the share of real images inside the generated one (diversity).
package evaluate
