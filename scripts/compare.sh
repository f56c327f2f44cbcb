#!/usr/bin/env bash
# Train a genmodel model and its PyTorch reference (../shared/bench/<model>_ref.py)
# back to back on this machine, then print the training throughput ratio
# (genmodel images/s over the best of PyTorch at 1 and 2 threads), the test loss
# where the model has one (VAE), and the evaluator's figures (FID, coverage,
# precision/recall) of 1000 samples of each.
#
#   scripts/compare.sh MODEL BIN MNIST_DIR [EPOCHS] [SPEED_EPOCHS]
#
# MODEL is vae or gan. EPOCHS (default: the model's default) is the quality run
# of each; SPEED_EPOCHS (default 1) is the length of the extra 2-thread PyTorch
# run, which only measures speed. PyTorch comes from Debian: `make pytorch`.
set -euo pipefail
model=$1 bin=$2 mnist=$3
epochs=${4:-$("$bin" config --model "$model" | awk '$1 == "epochs:" { print $2 }')}
speed_epochs=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$here/../../shared/bench}
py=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

mean_ips() { awk '/images\/s/ { for (i = 1; i < NF; i++) if ($i == "images/s") { s += $(i+1); n++ } } END { printf "%.0f", s / n }'; }
fig() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

echo "== PyTorch ${model}_ref.py, 1 thread, $epochs epochs"
(cd "$bench" && OMP_NUM_THREADS=1 SAMPLES_DIR="$work/torch-samples" NSAMPLES=1000 "$py" "${model}_ref.py" "$mnist" "$epochs" 1) | tee "$work/torch1.log"
echo "== genmodel $model, $epochs epochs"
"$bin" train --model "$model" --epochs "$epochs" --out "$work/run" --set train.log_every=100000 | grep '^epoch\|^warning' | tee "$work/gm.log"
"$bin" eval --model "$model" --checkpoint "$work/run" --n 1000 | tee "$work/eval.log"
"$bin" sample --model "$model" --checkpoint "$work/run" --n 64 --out "${GRID_OUT:-$work/grid.png}"
"$bin" eval --images "$work/torch-samples" | tee "$work/eval-torch.log"
echo "== PyTorch ${model}_ref.py, 2 threads, $speed_epochs epochs (speed only)"
(cd "$bench" && OMP_NUM_THREADS=2 "$py" "${model}_ref.py" "$mnist" "$speed_epochs" 2) | tee "$work/torch2.log"

t1=$(mean_ips < "$work/torch1.log"); t2=$(mean_ips < "$work/torch2.log"); gm=$(grep '^epoch' "$work/gm.log" | mean_ips)
best=$(( t1 > t2 ? t1 : t2 ))
echo
echo "| $model, $epochs epochs | train images/s |"
echo "|---|---|"
echo "| PyTorch 1 thread | $t1 |"
echo "| PyTorch 2 threads | $t2 |"
echo "| genmodel | $gm |"
awk -v g="$gm" -v b="$best" 'BEGIN { printf "throughput ratio genmodel / best PyTorch: %.2f\n", g / b }'
if [ "$model" = vae ]; then
  torch_loss=$(tail -n 1 "$work/torch1.log" | awk '{ for (i = 1; i < NF; i++) if ($i == "test_loss/img") print $(i+1) }')
  gm_loss=$(fig loss "$work/eval.log")
  awk -v gl="$gm_loss" -v tl="$torch_loss" 'BEGIN { printf "test loss per image: genmodel %.3f, PyTorch %.3f (%+.2f%%)\n", gl, tl, 100 * (gl - tl) / tl }'
fi
echo
echo "| 1000 samples after $epochs epochs | FID | classes | class entropy (bits) | mean top prob | precision | recall |"
echo "|---|---|---|---|---|---|---|"
for who in torch gm; do
  f=$work/eval-torch.log; name="PyTorch ${model}_ref.py"
  [ "$who" = gm ] && f=$work/eval.log && name=genmodel
  echo "| $name | $(fig fid "$f") | $(fig classes "$f") | $(fig class_entropy_bits "$f") | $(fig mean_top_prob "$f") | $(fig precision "$f") | $(fig recall "$f") |"
done
echo "wall time: $(( $(date +%s) - start )) s"
