package evaluate

import (
	"fmt"

	"github.com/genmodel/genmodel/checkpoints"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// Net is the feature network: a trained classifier.
type Net struct {
	Classifier *nets.Classifier
	Source     string // the checkpoint it came from
}

// LoadNet loads the classifier checkpoint at path, or the one embedded in the
// binary when path is empty.
func LoadNet(path string) (*Net, error) {
	var ck *checkpoint.Checkpoint
	var err error
	if path == "" {
		ck, err = checkpoint.ReadBytes(checkpoints.ClassifierName, checkpoints.Classifier)
	} else {
		var file string
		if file, err = checkpoint.Resolve(path); err == nil {
			ck, err = checkpoint.Read(file)
		}
	}
	if err != nil {
		return nil, err
	}
	c := nets.NewClassifier(models.InitRNG(0))
	if err := ck.LoadInto("classifier", c.Params.List()); err != nil {
		return nil, fmt.Errorf("feature network: %w", err)
	}
	return &Net{Classifier: c, Source: ck.Path}, nil
}

// Features are the classifier's penultimate activations and class
// probabilities of a set of images.
type Features struct {
	N, D  int
	X     []float64 // N x D features
	Probs []float64 // N x 10
}

// Extract runs the classifier over imgs (28x28, values in [0,1]).
func (n *Net) Extract(imgs sample.Images) (*Features, error) {
	d := nets.ClassifierFeatures
	f := &Features{N: imgs.N, D: d, X: make([]float64, imgs.N*d), Probs: make([]float64, imgs.N*10)}
	err := models.ClassifierBatches(n.Classifier, 250, imgs, func(lo, rows int, feats, probs []float32) {
		for i, v := range feats[:rows*d] {
			f.X[lo*d+i] = float64(v)
		}
		for i, v := range probs[:rows*10] {
			f.Probs[lo*10+i] = float64(v)
		}
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Subset returns the features of the given rows.
func (f *Features) Subset(rows []int) *Features {
	s := &Features{N: len(rows), D: f.D, X: make([]float64, 0, len(rows)*f.D), Probs: make([]float64, 0, len(rows)*10)}
	for _, r := range rows {
		s.X = append(s.X, f.X[r*f.D:(r+1)*f.D]...)
		s.Probs = append(s.Probs, f.Probs[r*10:(r+1)*10]...)
	}
	return s
}
