package app

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/evaluate"
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/sample"
)

// EvalOptions are the inputs of `genmodel eval`.
type EvalOptions struct {
	DrawFlags
	Images     string // a folder of images or a PNG grid to measure instead of a model
	Ref        string // reference folder instead of the MNIST test set
	FeatureNet string // the evaluator's feature network ("" for the embedded classifier)
	N          int    // images to sample from a generative model
	K          int    // precision/recall neighbourhood
	JSON       bool
	// Metrics lists extra measurements: "nll" (a diffusion model's
	// variational bound on NLLImages test images).
	Metrics   []string
	NLLImages int
	// NLLTimesteps > 0 estimates the bound's middle terms from that many
	// stratified timesteps per image instead of all T.
	NLLTimesteps int
}

// evalResult is everything eval reports, in print order.
type evalResult struct {
	fields []field
	notes  []string
}

type field struct {
	name  string
	value any
}

func (r *evalResult) add(name string, v any) { r.fields = append(r.fields, field{name, v}) }

// Eval measures a trained model (its own figures, and for a generative model
// the evaluator's figures of N samples) or a set of images, and prints them
// as a table or one JSON object.
func Eval(o EvalOptions, stdout io.Writer) error {
	var res evalResult
	var err error
	if o.Images != "" {
		err = evalImages(o, &res)
	} else {
		err = evalModel(o, &res)
	}
	if err != nil {
		return err
	}
	if o.JSON {
		obj := map[string]any{}
		for _, f := range res.fields {
			obj[f.name] = f.value
		}
		return json.NewEncoder(stdout).Encode(obj)
	}
	for _, f := range res.fields {
		switch v := f.value.(type) {
		case float64:
			fmt.Fprintf(stdout, "%-22s %.4f\n", f.name, v)
		default:
			fmt.Fprintf(stdout, "%-22s %v\n", f.name, v)
		}
	}
	for _, n := range res.notes {
		fmt.Fprintf(stdout, "(%s)\n", n)
	}
	return nil
}

func evalImages(o EvalOptions, res *evalResult) error {
	imgs, err := evaluate.LoadImages(o.Images)
	if err != nil {
		return err
	}
	res.add("images_path", o.Images)
	net, err := evaluate.LoadNet(o.FeatureNet)
	if err != nil {
		return err
	}
	_, err = addFigures(o, net, "", imgs, res)
	return err
}

func evalModel(o EvalOptions, res *evalResult) error {
	m, err := loadDrawn(o.DrawFlags)
	if err != nil {
		return err
	}
	if m.origin != "" {
		res.add("using", m.origin)
	}
	m.deps.announce = func(flag, origin string) {
		res.add(strings.ReplaceAll(strings.TrimPrefix(flag, "--"), "-", "_"), origin)
	}
	common, err := m.cfg.Common()
	if err != nil {
		return err
	}
	_, test, err := loadData(common.Data)
	if err != nil {
		return err
	}
	rep, err := m.Evaluate(test, rand.New(rand.NewPCG(o.Seed, 0x4556414c))) // "EVAL"
	if err != nil {
		return err
	}
	res.add("model", rep.Model)
	res.add("checkpoint", m.ck.Path)
	res.add("epoch", m.ck.Meta.Epoch)
	res.add("step", m.ck.Meta.Step)
	if rep.Images > 0 {
		res.add("test_images", rep.Images)
	}
	for _, x := range rep.Metrics {
		res.add(x.Name, x.Value)
	}
	res.notes = append(res.notes, rep.Notes...)
	for _, metric := range o.Metrics {
		if err := addExtraMetric(o, m, metric, test, res); err != nil {
			return err
		}
	}
	if len(m.Kinds()) == 0 || o.N == 0 {
		return nil // a classifier draws nothing; --n 0 asks for nothing
	}
	if o.N < 0 {
		return fmt.Errorf("--n must not be negative, got %d", o.N)
	}
	req := o.Request
	req.N, req.Class, req.Code = o.N, -1, -1
	req.Test = test // for a model whose pictures show test images
	// Guided samples are what guidance is for: the figures then describe N
	// samples asked for the classes in turn, each guided toward its class.
	guided := req.Diffusion.Guidance != "" && m.Classes(req) > 0
	start := time.Now()
	var d sample.Drawing
	var asked []int // each image's class, when guided
	if guided {
		d, asked, err = drawBalanced(m, req, sample.NewRand(o.Seed))
	} else {
		d, err = models.Draw(m, m.name, req, sample.NewRand(o.Seed))
	}
	if err != nil {
		return err
	}
	seconds := time.Since(start).Seconds()
	for _, f := range d.Facts {
		res.add(f.Name, f.Value)
	}
	res.add("sample_images_per_sec", float64(o.N)/seconds)
	net, err := evaluate.LoadNet(o.FeatureNet)
	if err != nil {
		return err
	}
	features, err := addFigures(o, net, common.Data.Dir, d.Images, res)
	if err != nil {
		return err
	}
	switch {
	case guided:
		res.notes = append(res.notes, fmt.Sprintf("guided: the %d samples are asked for classes 0 to %d in turn, each guided by %s (guidance_scale)", o.N, m.Classes(req)-1, req.Diffusion.Guidance))
		addClassMatchOf(features, asked, m.Classes(req), res)
	case m.Classes(req) > 0:
		return addClassMatch(o, net, m, req, res)
	}
	return nil
}

// drawBalanced draws req.N images of the classes in turn, as many of each
// as N allows (the first N mod classes get one more), with req's options.
func drawBalanced(m *trained, req sample.Request, rng *rand.Rand) (sample.Drawing, []int, error) {
	classes, n := m.Classes(req), req.N
	if n < classes {
		return sample.Drawing{}, nil, fmt.Errorf("--n %d: guided samples are drawn for each of the %d classes; give --n %d or more", n, classes, classes)
	}
	var all sample.Drawing
	var asked []int
	for k := range classes {
		req.Class, req.N = k, n/classes
		if k < n%classes {
			req.N++
		}
		if req.N == 0 {
			continue
		}
		d, err := models.Draw(m, m.name, req, rng)
		if err != nil {
			return sample.Drawing{}, nil, err
		}
		if all.Images.N == 0 {
			all = sample.Drawing{Images: sample.Images{H: d.Images.H, W: d.Images.W}, Grid: d.Grid, Facts: d.Facts}
		}
		all.Images.N += d.Images.N
		all.Images.Pix = append(all.Images.Pix, d.Images.Pix...)
		for range d.Images.N {
			asked = append(asked, k)
		}
	}
	return all, asked, nil
}

// addClassMatchOf reports, for samples asked for classes, the share of each
// class's samples that the classifier labels as asked.
func addClassMatchOf(f *evaluate.Features, asked []int, classes int, res *evalResult) {
	rows := make([][]int, classes)
	for i, k := range asked {
		rows[k] = append(rows[k], i)
	}
	match := make([]float64, classes)
	worst := 1.0
	for k := range match {
		match[k] = evaluate.ClassMatch(f.Subset(rows[k]), k)
		worst = min(worst, match[k])
	}
	res.add("class_match", match)
	res.add("class_match_min", worst)
	res.notes = append(res.notes, "class_match[k]: share of the samples asked for class k that the classifier labels k")
}

// addExtraMetric adds an --metrics measurement.
func addExtraMetric(o EvalOptions, m *trained, metric string, test *data.Dataset, res *evalResult) error {
	if metric != "nll" {
		return fmt.Errorf("--metrics %s: the extra metric is nll", metric)
	}
	lb, ok := m.Model.(models.LikelihoodBound)
	if !ok {
		return fmt.Errorf("--metrics nll bounds a diffusion model's likelihood; the %s reports its own (flows: bits_per_dim, the VAE: iwae_nll_nats)", m.name)
	}
	start := time.Now()
	b, err := lb.NLLBitsPerDim(test, o.NLLImages, o.NLLTimesteps, rand.New(rand.NewPCG(o.Seed, 0x4e4c4c))) // "NLL"
	if err != nil {
		return err
	}
	res.add("nll_bits_per_dim", b.BitsPerDim)
	res.add("nll_stderr", b.StdErr)
	res.add("nll_images", b.Images)
	res.add("nll_seconds", time.Since(start).Seconds())
	res.notes = append(res.notes, b.Note)
	return nil
}

// addClassMatch asks a conditional model for each class in turn and reports
// how often the classifier recognizes the class asked for.
func addClassMatch(o EvalOptions, net *evaluate.Net, m *trained, req sample.Request, res *evalResult) error {
	classes := m.Classes(req)
	req.N = max(1, o.N/classes)
	rng := rand.New(rand.NewPCG(o.Seed, 0x434c4153)) // "CLAS"
	match := make([]float64, classes)
	worst := 1.0
	for k := range match {
		req.Class = k
		d, err := models.Draw(m, m.name, req, rng)
		if err != nil {
			return err
		}
		f, err := net.Extract(d.Images)
		if err != nil {
			return err
		}
		match[k] = evaluate.ClassMatch(f, k)
		worst = min(worst, match[k])
	}
	res.add("class_match", match)
	res.add("class_match_min", worst)
	res.notes = append(res.notes, fmt.Sprintf("class_match[k]: share of %d samples asked for class k that the classifier labels k", req.N))
	return nil
}

// addFigures measures imgs against the reference set in the classifier's
// features.
func addFigures(o EvalOptions, net *evaluate.Net, mnistDir string, imgs sample.Images, res *evalResult) (*evaluate.Features, error) {
	if imgs.H != 28 || imgs.W != 28 {
		return nil, fmt.Errorf("the evaluator measures 28x28 images; these are %dx%d", imgs.H, imgs.W)
	}
	refName := "MNIST test set"
	var ref *data.Dataset
	var err error
	if o.Ref != "" {
		refName = o.Ref
		if ref, err = data.LoadImageFolder(o.Ref, 28); err != nil {
			return nil, err
		}
	} else if _, ref, err = data.LoadMNIST(mnistDir); err != nil {
		return nil, err
	}
	refFeatures, err := net.Reference(ref)
	if err != nil {
		return nil, err
	}
	genFeatures, err := net.Extract(imgs)
	if err != nil {
		return nil, err
	}
	fig, err := evaluate.Compare(net.Source, refFeatures, genFeatures, max(1, o.K), o.Seed)
	if err != nil {
		return nil, err
	}
	res.add("images", fig.Images)
	res.add("reference", refName)
	res.add("reference_images", fig.RefImages)
	res.add("fid", fig.FID)
	res.add("classes", fig.Coverage.Classes)
	res.add("class_histogram", fig.Coverage.Histogram)
	res.add("class_entropy_bits", fig.Coverage.EntropyBits)
	res.add("mean_top_prob", fig.Coverage.MeanTopProb)
	res.add("classifier_score", fig.Coverage.ClassifierScore)
	res.add("precision", fig.Precision)
	res.add("recall", fig.Recall)
	res.add("pr_k", fig.K)
	res.add("pr_images", fig.PRImages)
	res.add("feature_net", fig.Net)
	res.notes = append(res.notes,
		fmt.Sprintf("FID in the MNIST classifier's 128-d features, %d generated vs %d reference images; FID is biased upward at small N, compare only at equal N", fig.Images, fig.RefImages),
		fmt.Sprintf("precision/recall: Kynkaanniemi et al. 2019, k=%d, %d images per set", fig.K, fig.PRImages))
	return genFeatures, nil
}
