package evaluate

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Gaussian is a multivariate normal fitted to a set of feature vectors.
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
	N    int // vectors it was fitted to
}

// FitGaussian fits the mean and the unbiased covariance (denominator N-1, as
// numpy.cov and the reference FID code) to n vectors of dimension d stored
// row by row in x.
func FitGaussian(x []float64, n, d int) (Gaussian, error) {
	if n < 2 || len(x) != n*d {
		return Gaussian{}, fmt.Errorf("fitting a Gaussian needs at least 2 vectors, got %d", n)
	}
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	centered := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			centered.Set(i, j, x[i*d+j]-mean[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), centered.T())
	return Gaussian{Mean: mean, Cov: cov, N: n}, nil
}

// FrechetDistance is |m1-m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
//
// The trace of the matrix square root is computed without forming the
// non-symmetric product S1 S2: with R = S1^(1/2) (from S1's symmetric
// eigendecomposition), S1 S2 is similar to R S2 R, which is symmetric
// positive semi-definite, so Tr (S1 S2)^(1/2) = sum of sqrt(eig(R S2 R)).
// Eigenvalues that rounding makes slightly negative are clamped to zero.
// This avoids the complex intermediates and the ill-conditioning that a
// general sqrtm of S1 S2 suffers when the covariances are near singular.
func FrechetDistance(a, b Gaussian) (float64, error) {
	d := len(a.Mean)
	if len(b.Mean) != d {
		return 0, fmt.Errorf("feature dimensions differ: %d and %d", d, len(b.Mean))
	}
	var meanTerm float64
	for i := range a.Mean {
		diff := a.Mean[i] - b.Mean[i]
		meanTerm += diff * diff
	}
	r, err := symSqrt(a.Cov)
	if err != nil {
		return 0, err
	}
	var tmp, m mat.Dense
	tmp.Mul(r, b.Cov)
	m.Mul(&tmp, r)
	sym := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, 0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(sym, false) {
		return 0, fmt.Errorf("FID: eigendecomposition did not converge")
	}
	var traceSqrt float64
	for _, l := range es.Values(nil) {
		traceSqrt += math.Sqrt(math.Max(l, 0))
	}
	fid := meanTerm + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*traceSqrt
	// Rounding can leave a tiny negative value for identical inputs.
	return math.Max(fid, 0), nil
}

// symSqrt returns the symmetric square root of a positive semi-definite
// matrix, clamping negative eigenvalues (rounding noise) to zero.
func symSqrt(s *mat.SymDense) (*mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, fmt.Errorf("FID: eigendecomposition did not converge")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	n := len(vals)
	scaled := mat.NewDense(n, n, nil)
	for j, l := range vals {
		s := math.Sqrt(math.Max(l, 0))
		for i := 0; i < n; i++ {
			scaled.Set(i, j, vecs.At(i, j)*s)
		}
	}
	var out mat.Dense
	out.Mul(scaled, vecs.T())
	return &out, nil
}
