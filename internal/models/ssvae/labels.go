package ssvae

import (
	"fmt"
	"slices"

	"github.com/genmodel/genmodel/data"
)

// labelStream is the stream of the generator that picks the labelled images,
// distinct from the training loop's ("LABL").
const labelStream = 0x4c41424c00000000

// UseTrainingSet implements train.TrainingSetUser: it keeps ssvae.labels
// images of the training set, as many of each class, as the labelled set,
// and returns the rest without their labels for the loop to iterate over.
// Which images are labelled depends only on the seed and the set.
func (m *SSVAE) UseTrainingSet(ds *data.Dataset) (*data.Dataset, error) {
	picked, err := pickLabelled(ds, m.cfg.Labels/classes, m.common.Seed)
	if err != nil {
		return nil, err
	}
	var rest []int
	for i, j := 0, 0; i < ds.N; i++ {
		if j < len(picked) && picked[j] == i {
			j++
			continue
		}
		rest = append(rest, i)
	}
	m.labelled = subset(ds, picked, true)
	m.labelled.Name = fmt.Sprintf("%s (%d labelled)", ds.Name, len(picked))
	m.total = ds.N
	unlabelled := subset(ds, rest, false)
	unlabelled.Name = fmt.Sprintf("%s (%d unlabelled)", ds.Name, len(rest))
	return unlabelled, nil
}

// pickLabelled returns the sorted indices of perClass images of each class:
// the first of each class in a seeded permutation of the set.
func pickLabelled(ds *data.Dataset, perClass int, seed uint64) ([]int, error) {
	if ds.Labels == nil {
		return nil, fmt.Errorf("the ssvae needs a labelled training set; %s has no labels", ds.Name)
	}
	count := make([]int, classes)
	var picked []int
	for _, i := range data.EpochOrder(seed^labelStream, 0, ds.N) {
		y := int(ds.Labels[i])
		if y >= classes {
			return nil, fmt.Errorf("%s: image %d has label %d; the ssvae knows %d classes", ds.Name, i, y, classes)
		}
		if count[y] < perClass {
			count[y]++
			picked = append(picked, i)
		}
	}
	for y, n := range count {
		if n < perClass {
			return nil, fmt.Errorf("%s has %d images of class %d, fewer than ssvae.labels/%d = %d; lower ssvae.labels or raise data.limit", ds.Name, n, y, classes, perClass)
		}
	}
	slices.Sort(picked)
	return picked, nil
}

// subset copies the images idx of ds, with their labels when asked.
func subset(ds *data.Dataset, idx []int, labels bool) *data.Dataset {
	d := ds.H * ds.W
	out := &data.Dataset{N: len(idx), H: ds.H, W: ds.W, Pixels: make([]float32, 0, len(idx)*d)}
	if labels {
		out.Labels = make([]uint8, 0, len(idx))
	}
	for _, i := range idx {
		out.Pixels = append(out.Pixels, ds.Image(i)...)
		if labels {
			out.Labels = append(out.Labels, ds.Labels[i])
		}
	}
	return out
}
