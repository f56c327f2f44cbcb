package graphs

import (
	"math"
	"testing"
)

// checkGradients compares the analytic gradient of every parameter (from
// prog.Grads after one run) with central finite differences of loss, at up to
// perParam coordinates of each parameter. The tolerances suit float32.
func checkGradients(t *testing.T, prog *Program, loss func() float64, perParam int) {
	t.Helper()
	if err := prog.Run(); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float32, len(prog.Grads()))
	for i, g := range prog.Grads() {
		analytic[i] = append([]float32(nil), g...)
	}
	const h = 3e-3
	base := loss()
	checked, kinks := 0, 0
	for i, p := range prog.Params() {
		stride := max(1, len(p.Data)/perParam)
		for j := 0; j < len(p.Data); j += stride {
			orig := p.Data[j]
			p.Data[j] = orig + h
			up := loss()
			p.Data[j] = orig - h
			down := loss()
			p.Data[j] = orig
			// A ReLU switching inside [x-h, x+h] makes the one-sided slopes
			// disagree; the function is not differentiable there, so skip.
			right, left := (up-base)/h, (base-down)/h
			if math.Abs(right-left) > 0.05*math.Max(1, math.Abs(right)+math.Abs(left)) {
				kinks++
				continue
			}
			numeric := (up - down) / (2 * h)
			got := float64(analytic[i][j])
			if diff := math.Abs(got - numeric); diff > 2e-2*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: analytic %.5g, finite difference %.5g", p.Name, j, got, numeric)
			}
			checked++
		}
	}
	if checked == 0 || kinks > checked/5 {
		t.Fatalf("%d coordinates checked, %d skipped at kinks: too few to trust", checked, kinks)
	}
}
