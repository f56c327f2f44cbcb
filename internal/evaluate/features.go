package evaluate

import (
	"fmt"
	"math/rand/v2"

	"github.com/genmodel/genmodel/checkpoints"
	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/graphs/nets"
	"github.com/genmodel/genmodel/internal/checkpoint"
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
		b, ok := checkpoints.Shipped("classifier")
		if !ok {
			return nil, fmt.Errorf("this binary ships no classifier; pass --feature-net with a classifier checkpoint")
		}
		ck, err = checkpoint.ReadBytes(checkpoints.Name("classifier"), b)
	} else {
		var file string
		if file, err = checkpoint.Resolve(path); err == nil {
			ck, err = checkpoint.Read(file)
		}
	}
	if err != nil {
		return nil, err
	}
	c := nets.NewClassifier(rand.New(rand.NewPCG(0, 0))) // the checkpoint overwrites these weights
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
	err := ClassifierBatches(n.Classifier, 250, imgs, func(lo, rows int, feats, probs []float32) {
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

// ClassifierBatches runs the classifier over imgs in batches, calling visit
// with the features (rows x 128) and class probabilities (rows x 10) of the
// images lo..lo+rows.
func ClassifierBatches(net *nets.Classifier, batch int, imgs sample.Images, visit func(lo, rows int, features, probs []float32)) error {
	if imgs.H != net.Side || imgs.W != net.Side {
		return fmt.Errorf("the classifier takes %dx%d images, got %dx%d", net.Side, net.Side, imgs.H, imgs.W)
	}
	batch = max(1, min(batch, imgs.N))
	e, err := net.BuildEval(batch)
	if err != nil {
		return err
	}
	prog, err := graphs.Compile(e.Bound, nil, graphs.Outputs{e.Features, e.Probs})
	if err != nil {
		return err
	}
	defer prog.Close()
	d := imgs.H * imgs.W
	return sample.Chunks(imgs.N, batch, func(lo, rows int) error {
		clear(e.X)
		copy(e.X, imgs.Pix[lo*d:(lo+rows)*d])
		if err := prog.Run(); err != nil {
			return err
		}
		visit(lo, rows, prog.Value(e.Features), prog.Value(e.Probs))
		return nil
	})
}
