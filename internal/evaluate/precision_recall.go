package evaluate

import (
	"fmt"
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
