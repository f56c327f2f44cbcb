#!/usr/bin/env bash
# Rebuilds the shipped weights: trains and scores every run of
# experiments/pretrained.yaml (run it again after an interruption: finished
# runs are skipped, stopped ones resumed), then exports each run's latest
# checkpoint, sampling weights only, into checkpoints/NAME.safetensors.
#   scripts/pretrained.sh BIN
set -euo pipefail
BIN=${1:?usage: pretrained.sh BIN}
"$BIN" run experiments/pretrained.yaml
for dir in experiments/pretrained/*/; do
  name=$(basename "$dir")
  [ -f "$dir/checkpoints/latest" ] || continue
  "$BIN" export --checkpoint "$dir" --out "checkpoints/$name.safetensors"
done
ls -l checkpoints/*.safetensors
