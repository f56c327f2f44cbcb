package main

import (
	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/models"
)

func newConfigCmd() *cobra.Command {
	var (
		model, path string
		sets        []string
	)
	cmd := &cobra.Command{
		Use:   "config --model MODEL [--config FILE] [--set key=value]...",
		Short: "Print a model's resolved configuration as YAML",
		Long: `Print a model's resolved configuration: the embedded defaults, with --config
and --set applied. Save it, edit it, and train with --config.`,
		Example: `  genmodel config --model vae > my-vae.yaml
  genmodel config --model vae --set vae.latent_dim=2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := models.Lookup(model); err != nil {
				return err
			}
			overrides, err := parseSets(sets)
			if err != nil {
				return err
			}
			cfg, err := config.Load(model, path, overrides)
			if err != nil {
				return err
			}
			out, err := cfg.YAML()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model (see 'genmodel models')")
	cmd.Flags().StringVar(&path, "config", "", "YAML file over the defaults")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override one key (repeatable)")
	return cmd
}
