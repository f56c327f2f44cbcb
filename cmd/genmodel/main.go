// Command genmodel trains and samples deep generative models (VAE, GAN,
// diffusion, normalizing flows) on image data, each model a Gorgonia graph.
//
// Run `genmodel --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/genmodel/genmodel/internal/experiment"
	"github.com/genmodel/genmodel/internal/train"
)

func main() {
	// The first Ctrl-C (or SIGTERM) cancels ctx: training saves a checkpoint
	// and exits. stop() then restores the default, so a second Ctrl-C kills
	// at once (checkpoint writes are atomic, so that loses nothing saved).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		if errors.Is(err, train.ErrInterrupted) || errors.Is(err, experiment.ErrInterrupted) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}
