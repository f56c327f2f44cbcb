package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/genmodel/genmodel/internal/app"
	"github.com/genmodel/genmodel/internal/config"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "genmodel",
		Short: "Train, sample and evaluate deep generative models on images",
		Long: `genmodel trains and samples the four families of deep generative models on
image data: VAE, GAN, diffusion and normalizing flows. Every model is a
Gorgonia computation graph; defaults follow the textbook chapter's models,
and every setting can be changed in a YAML file or on the command line.`,
		Example: `  genmodel train --model vae
  genmodel sample --model vae --checkpoint runs/vae --n 64 --out vae.png
  genmodel eval --model vae --checkpoint runs/vae`,
		Version:       app.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newTrainCmd(), newSampleCmd(), newEvalCmd(), newRunCmd(), newCompareCmd(), newModelsCmd(), newConfigCmd(), newExportCmd())
	return root
}

// parseSets turns --set key=value flags into overrides.
func parseSets(sets []string) ([]config.Override, error) {
	var out []config.Override
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: want key=value, e.g. --set vae.beta=4", s)
		}
		out = append(out, config.Override{Key: strings.TrimSpace(k), Value: v, Source: "--set " + k})
	}
	return out, nil
}

func stdoutIsTerminal() bool { return term.IsTerminal(int(os.Stdout.Fd())) }
