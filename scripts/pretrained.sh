#!/usr/bin/env bash
# Rebuilds the shipped weights: trains and scores every run of
# experiments/pretrained.yaml (run it again after an interruption: finished
# runs are skipped, stopped ones resumed), then exports each run's latest
# checkpoint, sampling weights only, into checkpoints/NAME.safetensors: the
# large tensors of the vae, the GANs, the ssvae, the vqvae-prior, the ldm and
# the ddpm-weak as F16 (half the bytes; checkpoints/README.md shows that
# their figures do not move), the others as F32; the vqvae set to draw its
# codes from the shipped vqvae-prior.
#   scripts/pretrained.sh BIN
set -euo pipefail
BIN=${1:?usage: pretrained.sh BIN}
"$BIN" run experiments/pretrained.yaml
for dir in experiments/pretrained/*/; do
  name=$(basename "$dir")
  [ -f "$dir/checkpoints/latest" ] || continue
  dtype=f32
  sets=()
  case "$name" in
  vae | gan | dcgan* | ssvae | vqvae-prior | ldm | ddpm-weak) dtype=f16 ;;
  vqvae) sets=(--set vqvae.prior=pixelcnn) ;; # sample with the shipped vqvae-prior
  esac
  "$BIN" export --checkpoint "$dir" --out "checkpoints/$name.safetensors" --dtype "$dtype" "${sets[@]}"
done
ls -l checkpoints/*.safetensors
