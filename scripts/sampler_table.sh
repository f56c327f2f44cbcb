#!/usr/bin/env bash
# The sampler table of a trained ddpm: FID, precision, recall and wall time
# of each sampler at each step count, scored by `genmodel eval` on N samples.
#   scripts/sampler_table.sh BIN CHECKPOINT N [STEPS...] > table.md
# (default STEPS: 10 20 50). The 1000-step ancestral chain is a row of its
# own when 1000 is among the steps.
set -euo pipefail
BIN=${1:?usage: sampler_table.sh BIN CHECKPOINT N [STEPS...]}
CK=${2:?checkpoint}
N=${3:?number of samples}
shift 3
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(10 20 50)
echo "| sampler | steps | network evaluations per image | FID | precision | recall | classes | seconds |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row() { # SAMPLER STEPS EVALS
  local start end json
  start=$(date +%s.%N)
  json=$("$BIN" eval --checkpoint "$CK" --n "$N" --seed 0 --sampler "$1" --steps "$2" --json)
  end=$(date +%s.%N)
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print("| %s | %s | %s | %.1f | %.3f | %.3f | %d | %.0f |" % (sys.argv[2], sys.argv[3], sys.argv[4],
      d["fid"], d["precision"], d["recall"], d["classes"], float(sys.argv[6]) - float(sys.argv[5])))' "$json" "$1" "$2" "$3" "$start" "$end"
}
for k in "${STEPS[@]}"; do
  if [ "$k" = 1000 ]; then
    row ddpm 1000 1000
    continue
  fi
  for s in ddim dpm++2m euler heun; do
    evals=$k
    [ "$s" = heun ] && evals=$((2 * k - 1))
    row "$s" "$k" "$evals"
  done
done
