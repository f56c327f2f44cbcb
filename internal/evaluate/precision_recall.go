package evaluate

import (
	"fmt"
	"math"
	"sort"
)

// PrecisionRecall implements the improved precision and recall of
// Kynkäänniemi et al. (2019). Each set's manifold is the union of balls
// around its points, each ball's radius the distance to the point's k-th
// nearest neighbour within the set. Precision is the share of fake points
// inside the real manifold; recall is the share of real points inside the
// fake manifold. Both sets hold n vectors of dimension d row by row; the
// paper uses equal sizes, and so should callers.
func PrecisionRecall(real []float64, nReal int, fake []float64, nFake int, d, k int) (precision, recall float64, err error) {
	if k < 1 || nReal <= k || nFake <= k {
		return 0, 0, fmt.Errorf("precision/recall with k=%d needs more than %d images in each set (have %d real, %d generated)", k, k, nReal, nFake)
	}
	realRadii := kthNeighbourDistances(real, nReal, d, k)
	fakeRadii := kthNeighbourDistances(fake, nFake, d, k)
	precision = shareInside(fake, nFake, real, nReal, realRadii, d)
	recall = shareInside(real, nReal, fake, nFake, fakeRadii, d)
	return precision, recall, nil
}

// sqDist is the squared Euclidean distance of two d-vectors.
func sqDist(a, b []float64) float64 {
	var s float64
	for i := range a {
		t := a[i] - b[i]
		s += t * t
	}
	return s
}

// kthNeighbourDistances returns, for each point, the squared distance to its
// k-th nearest other point of the same set.
func kthNeighbourDistances(x []float64, n, d, k int) []float64 {
	radii := make([]float64, n)
	dist := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		dist = dist[:0]
		xi := x[i*d : (i+1)*d]
		for j := 0; j < n; j++ {
			if j != i {
				dist = append(dist, sqDist(xi, x[j*d:(j+1)*d]))
			}
		}
		sort.Float64s(dist)
		radii[i] = dist[k-1]
	}
	return radii
}

// shareInside is the fraction of the query points that lie within the ball
// of at least one manifold point.
func shareInside(q []float64, nq int, m []float64, nm int, radii []float64, d int) float64 {
	inside := 0
	for i := 0; i < nq; i++ {
		qi := q[i*d : (i+1)*d]
		for j := 0; j < nm; j++ {
			if sqDist(qi, m[j*d:(j+1)*d]) <= radii[j] {
				inside++
				break
			}
		}
	}
	return float64(inside) / float64(nq)
}

// Coverage summarizes which classes a set of images is recognized as.
type Coverage struct {
	Histogram   [10]int // images per predicted class
	Classes     int     // classes predicted for at least MinClassShare of the images
	EntropyBits float64 // of the histogram; log2(10) = 3.32 for a uniform spread
	MeanTopProb float64 // mean of the top-class probability: confidence, an Inception-Score analog
	// ClassifierScore is exp(E_x KL(p(y|x) || p(y))), the Inception Score's
	// formula with the MNIST classifier: 10 at best, 1 at worst.
	ClassifierScore float64
}

// MinClassShare is the share of images a class needs to count as present:
// 1%, a tenth of its share under a uniform spread. Without a floor, one
// misclassified image would make an absent class "appear" (the classifier
// errs on about 1 in 100 real digits).
const MinClassShare = 0.01

// ClassCoverage computes the coverage figures from n rows of 10 class
// probabilities.
func ClassCoverage(probs []float64, n int) Coverage {
	var c Coverage
	marginal := make([]float64, 10)
	for i := 0; i < n; i++ {
		p := probs[i*10 : (i+1)*10]
		for j, v := range p {
			marginal[j] += v / float64(n)
		}
		top := topClass(p)
		c.Histogram[top]++
		c.MeanTopProb += p[top] / float64(n)
	}
	for _, h := range c.Histogram {
		if h == 0 {
			continue
		}
		f := float64(h) / float64(n)
		c.EntropyBits -= f * math.Log2(f)
		if f >= MinClassShare {
			c.Classes++
		}
	}
	var kl float64
	for i := 0; i < n; i++ {
		for j, v := range probs[i*10 : (i+1)*10] {
			if v > 0 && marginal[j] > 0 {
				kl += v * math.Log(v/marginal[j])
			}
		}
	}
	c.ClassifierScore = math.Exp(kl / float64(n))
	return c
}

// ClassMatch is the share of images the classifier labels k.
func ClassMatch(f *Features, k int) float64 {
	hits := 0
	for i := 0; i < f.N; i++ {
		if topClass(f.Probs[i*10:(i+1)*10]) == k {
			hits++
		}
	}
	return float64(hits) / float64(max(1, f.N))
}

// topClass is the index of the largest probability (the first on ties).
func topClass(p []float64) int {
	top := 0
	for j, v := range p {
		if v > p[top] {
			top = j
		}
	}
	return top
}
