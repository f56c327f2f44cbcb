#!/usr/bin/env bash
# Train genmodel's default VAE and the PyTorch reference (../shared/bench/vae_ref.py)
# back to back on this machine, then print both test losses, the training
# throughput ratio (genmodel images/s over the best of PyTorch at 1 and 2 threads)
# and the evaluator's figures (FID, coverage, precision/recall) of 1000 prior
# samples of each.
#
#   scripts/compare_vae.sh BIN MNIST_DIR [EPOCHS] [SPEED_EPOCHS]
#
# EPOCHS (default 10) is the quality run of each; SPEED_EPOCHS (default 2) is
# the length of the extra 2-thread PyTorch run, which only measures speed.
# PyTorch comes from Debian: `make pytorch`.
set -euo pipefail
bin=$1 mnist=$2 epochs=${3:-10} speed_epochs=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$here/../../shared/bench}
py=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mean_ips() { awk '/images\/s/ { for (i = 1; i < NF; i++) if ($i == "images/s") { s += $(i+1); n++ } } END { printf "%.0f", s / n }'; }

echo "== PyTorch, 1 thread, $epochs epochs"
(cd "$bench" && OMP_NUM_THREADS=1 SAMPLES_DIR="$work/torch-samples" NSAMPLES=1000 "$py" vae_ref.py "$mnist" "$epochs" 1) | tee "$work/torch1.log"
echo "== genmodel, $epochs epochs"
"$bin" train --model vae --epochs "$epochs" --out "$work/run" --set train.log_every=100000 | grep '^epoch' | tee "$work/gm.log"
"$bin" eval --model vae --checkpoint "$work/run" --n 1000 | tee "$work/eval.log"
"$bin" eval --images "$work/torch-samples" | tee "$work/eval-torch.log"
echo "== PyTorch, 2 threads, $speed_epochs epochs (speed only)"
(cd "$bench" && OMP_NUM_THREADS=2 "$py" vae_ref.py "$mnist" "$speed_epochs" 2) | tee "$work/torch2.log"

t1=$(mean_ips < "$work/torch1.log"); t2=$(mean_ips < "$work/torch2.log"); gm=$(mean_ips < "$work/gm.log")
best=$(( t1 > t2 ? t1 : t2 ))
torch_loss=$(tail -n 1 "$work/torch1.log" | awk '{ for (i = 1; i < NF; i++) if ($i == "test_loss/img") print $(i+1) }')
gm_loss=$(awk '$1 == "loss" { print $2 }' "$work/eval.log")
fig() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
echo
echo "| after $epochs epochs | test loss/image | train images/s |"
echo "|---|---|---|"
echo "| PyTorch 1 thread | $torch_loss | $t1 |"
echo "| PyTorch 2 threads | - | $t2 |"
echo "| genmodel | $gm_loss | $gm |"
awk -v g="$gm" -v b="$best" -v gl="$gm_loss" -v tl="$torch_loss" 'BEGIN {
  printf "throughput ratio genmodel / best PyTorch: %.2f\n", g / b
  printf "test loss difference: %+.2f%%\n", 100 * (gl - tl) / tl }'
echo
echo "| 1000 prior samples after $epochs epochs | FID | classes | class entropy (bits) | mean top prob | precision | recall |"
echo "|---|---|---|---|---|---|---|"
for who in torch gm; do
  f=$work/eval-torch.log; name="PyTorch vae_ref.py"
  [ "$who" = gm ] && f=$work/eval.log && name=genmodel
  echo "| $name | $(fig fid "$f") | $(fig classes "$f") | $(fig class_entropy_bits "$f") | $(fig mean_top_prob "$f") | $(fig precision "$f") | $(fig recall "$f") |"
done
