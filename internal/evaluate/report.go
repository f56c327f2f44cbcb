package evaluate

import (
	"github.com/genmodel/genmodel/data"
)

// Figures are the evaluator's measurements of a set of generated images.
type Figures struct {
	Images    int     // generated images measured
	RefImages int     // reference images (FID uses all of them)
	FID       float64 // in the classifier's feature space
	Coverage  Coverage
	Precision float64
	Recall    float64
	K         int // neighbourhood size of precision/recall
	PRImages  int // images per set for precision/recall (the smaller set's size)
	Net       string
}

// Compare measures gen against ref. FID uses every image of both sets;
// precision and recall use equal-sized sets, so the larger set is cut to the
// smaller one's size by a permutation drawn from seed.
func Compare(net string, ref, gen *Features, k int, seed uint64) (Figures, error) {
	fig := Figures{Images: gen.N, RefImages: ref.N, K: k, Net: net}
	gr, err := FitGaussian(ref.X, ref.N, ref.D)
	if err != nil {
		return fig, err
	}
	gg, err := FitGaussian(gen.X, gen.N, gen.D)
	if err != nil {
		return fig, err
	}
	if fig.FID, err = FrechetDistance(gr, gg); err != nil {
		return fig, err
	}
	fig.Coverage = ClassCoverage(gen.Probs, gen.N)
	n := min(ref.N, gen.N)
	r, g := cut(ref, n, seed), cut(gen, n, seed+1)
	fig.PRImages = n
	fig.Precision, fig.Recall, err = PrecisionRecall(r.X, r.N, g.X, g.N, ref.D, k)
	return fig, err
}

func cut(f *Features, n int, seed uint64) *Features {
	if f.N == n {
		return f
	}
	return f.Subset(data.EpochOrder(seed, 0, f.N)[:n])
}

// Reference extracts the features of a reference dataset (the MNIST test set).
func (n *Net) Reference(ds *data.Dataset) (*Features, error) {
	return n.Extract(imagesOf(ds))
}
