package evaluate

import "math"

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
		top := TopClass(p)
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
		if TopClass(f.Probs[i*10:(i+1)*10]) == k {
			hits++
		}
	}
	return float64(hits) / float64(max(1, f.N))
}

// TopClass is the index of the largest value of p (the first on ties): the
// class a classifier's probabilities or logits pick.
func TopClass[F float32 | float64](p []F) int {
	top := 0
	for j, v := range p {
		if v > p[top] {
			top = j
		}
	}
	return top
}
