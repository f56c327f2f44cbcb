package app

import (
	"fmt"

	"github.com/genmodel/genmodel/data"
	"github.com/genmodel/genmodel/internal/config"
)

// loadData returns the training and test images the configuration asks for:
// MNIST (from data.dir or the Go module cache) or a folder of images, which
// has no separate test split and is used for both.
func loadData(d config.Data) (trainSet, testSet *data.Dataset, err error) {
	switch d.Dataset {
	case "mnist":
		trainSet, testSet, err = data.LoadMNIST(d.Dir)
	case "folder":
		if d.Dir == "" {
			return nil, nil, fmt.Errorf("data.dataset is folder but data.dir is empty; pass --set data.dir=PATH")
		}
		trainSet, err = data.LoadImageFolder(d.Dir, d.ImageSize)
		testSet = trainSet
	default:
		return nil, nil, fmt.Errorf("data.dataset %q is not mnist or folder", d.Dataset)
	}
	if err != nil {
		return nil, nil, err
	}
	if d.Limit < 0 {
		return nil, nil, fmt.Errorf("data.limit must not be negative, got %d", d.Limit)
	}
	trainSet = trainSet.Limit(d.Limit)
	if d.Binarize {
		trainSet, testSet = trainSet.Binarized(0.5), testSet.Binarized(0.5)
	}
	return trainSet, testSet, nil
}
