// Package checkpoints holds the weights genmodel ships, made by its own
// commands (README.md says which) and embedded in the binary.
package checkpoints

import _ "embed"

// ClassifierName is how the embedded classifier is named in messages.
const ClassifierName = "checkpoints/classifier.safetensors (embedded)"

// Classifier is the trained MNIST classifier, the evaluator's feature network.
//
//go:embed classifier.safetensors
var Classifier []byte
