package ops

import (
	G "gorgonia.org/gorgonia"

	"github.com/genmodel/genmodel/graphs"
)

// must is graphs.Must, short for the arithmetic of graph builders.
func must(n *G.Node, err error) *G.Node { return graphs.Must(n, err) }
