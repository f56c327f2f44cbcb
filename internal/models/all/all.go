// Package all is the list of genmodel's models: importing it registers
// every family's entries. A new model is one line in the table below.
package all

import (
	"github.com/genmodel/genmodel/internal/models"
	"github.com/genmodel/genmodel/internal/models/classifiers"
	"github.com/genmodel/genmodel/internal/models/ddpm"
	"github.com/genmodel/genmodel/internal/models/flow"
	"github.com/genmodel/genmodel/internal/models/gan"
	"github.com/genmodel/genmodel/internal/models/vae"
)

// Entries are the models, as `genmodel models` lists them.
var Entries = []models.Entry{
	classifiers.ClassifierEntry,
	ddpm.Entry,
	gan.DCGANEntry,
	gan.GANEntry,
	flow.GlowEntry,
	classifiers.NoisyEntry,
	flow.RealNVPEntry,
	vae.Entry,
}

func init() {
	for _, e := range Entries {
		models.Register(e)
	}
}
