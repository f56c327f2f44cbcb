// Package checkpoints holds the weights genmodel ships, one file per model
// named MODEL.safetensors, made by its own commands (checkpoints/README.md
// says which) and embedded in the binary, so `go install` and a copied binary
// sample and evaluate without a training run.
package checkpoints

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.safetensors
var files embed.FS

const suffix = ".safetensors"

// Name is how the shipped weights of model are named in messages.
func Name(model string) string { return "checkpoints/" + model + suffix + " (embedded)" }

// Shipped returns the shipped weights of model, or false when none ship.
func Shipped(model string) ([]byte, bool) {
	if model == "" || strings.ContainsAny(model, `/\.`) {
		return nil, false
	}
	b, err := files.ReadFile(model + suffix)
	return b, err == nil
}

// Models lists the models whose weights ship, sorted.
func Models() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), suffix); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
