package layers

import (
	"github.com/genmodel/genmodel/graphs"
	G "gorgonia.org/gorgonia"
)

// must is graphs.Must, short for the arithmetic of graph builders.
func must(n *G.Node, err error) *G.Node { return graphs.Must(n, err) }
