// Package configs embeds the default configuration of every model, one YAML
// file per model, into the genmodel binary.
package configs

import "embed"

// FS holds <model>.yaml for each model.
//
//go:embed *.yaml
var FS embed.FS
