package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/genmodel/genmodel/internal/models"
)

func newModelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "models",
		Short:   "List the models, one per line",
		Example: `  genmodel models`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range models.Names() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-17s %s\n", n, models.Summary(n))
			}
			return nil
		},
	}
}
