package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genmodel/genmodel/graphs"
	"github.com/genmodel/genmodel/internal/config"
	"github.com/genmodel/genmodel/internal/sample"
	"github.com/genmodel/genmodel/internal/train"
)

// InitRNG is the generator of a model's initial weights: seeded by the run's
// seed on its own stream, so that initialization never shares numbers with
// data order or noise.
func InitRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x494e4954)) } // "INIT"

// NewAdam creates an optimizer with the train section's settings.
func NewAdam(t config.Train, params []*graphs.Param) *train.Adam {
	return train.NewAdam(train.AdamConfig{LR: t.LR, Beta1: t.Beta1, Beta2: t.Beta2, Eps: t.Eps, GradClip: t.GradClip, WarmupSteps: t.WarmupSteps, Schedule: t.LRSchedule, DecaySteps: t.DecaySteps}, params)
}

// FillNormal fills dst with draws from N(0, 1).
func FillNormal(dst []float32, rng *rand.Rand) {
	for i := range dst {
		dst[i] = float32(rng.NormFloat64())
	}
}

// CheckTemperature refuses a sampling temperature that is not a positive
// number.
func CheckTemperature(t float64) error {
	if !(t > 0) || math.IsInf(t, 0) {
		return fmt.Errorf("temperature must be positive, got %g", t)
	}
	return nil
}

// Temperature is the sampling temperature req asks for, or def when it
// names none, refused with the flag's name when it is not a positive
// number: the one reading of --temperature for every family that takes it.
func Temperature(req sample.Request, def float64) (float64, error) {
	t := def
	if req.Temperature != 0 {
		t = req.Temperature
	}
	if err := CheckTemperature(t); err != nil {
		return 0, fmt.Errorf("--temperature: %w", err)
	}
	return t, nil
}
