#!/usr/bin/env bash
# Short seeded train-then-sample runs of every family, printing the SHA-256 of
# each checkpoint and PNG they write. Run it before and after a refactor that
# must not change behaviour and diff the two outputs:
#   scripts/fingerprint.sh bin/genmodel /tmp/fp-before > before.txt
set -euo pipefail
BIN=$(realpath "${1:?usage: fingerprint.sh BIN OUTDIR}")
OUT=${2:?usage: fingerprint.sh BIN OUTDIR}
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
SMALL=(--quiet --epochs 1 --set data.limit=256 --set train.sample_count=16 --seed 3)
train() { local name=$1; shift; "$BIN" train "$@" "${SMALL[@]}" --out "$name" >/dev/null; }
samp() { "$BIN" sample --seed 5 "$@" >/dev/null; }

train vae --model vae
samp --checkpoint vae --n 16 --out vae-prior.png
samp --checkpoint vae --kind recon --n 8 --out vae-recon.png
samp --checkpoint vae --kind interp --n 6 --out vae-interp.png

train gan --model gan
samp --checkpoint gan --n 16 --out gan.png

train dcgan --model dcgan
samp --checkpoint dcgan --n 16 --out dcgan.png
samp --checkpoint dcgan --n 16 --temperature 0.7 --out dcgan-t07.png

train cdcgan-sn --model dcgan --set dcgan.conditional=true --set dcgan.spectral_norm=true
samp --checkpoint cdcgan-sn --n 16 --class 4 --out cdcgan-sn-4.png
samp --checkpoint cdcgan-sn --n 20 --out cdcgan-sn.png

DIFF=(--set ddpm.timesteps=40 --set ddpm.grid_steps=5 --set ddpm.sample_steps=10)
train ddpm --model ddpm "${DIFF[@]}"
samp --checkpoint ddpm --n 8 --steps 40 --out ddpm-ancestral.png
samp --checkpoint ddpm --n 8 --steps 8 --sampler ddim --out ddpm-ddim.png
samp --checkpoint ddpm --n 8 --out ddpm-default.png
# Flags that were renamed: read the help once (grep -q on a pipe can end it
# early, and pipefail would then take SIGPIPE for "not found").
HELP=$("$BIN" sample --help)
GUIDE=--guidance-classifier
grep -q -- --guidance-classifier <<<"$HELP" || GUIDE=--classifier

# The reverse and forward pictures: flags before they became kinds.
if grep -q -- --trajectory <<<"$HELP"; then
  samp --checkpoint ddpm --steps 8 --sampler ddim --trajectory ddpm-traj.png --out junk.png
  samp --checkpoint ddpm --steps 8 --forward ddpm-fwd.png --out junk.png
  rm junk.png
else
  samp --checkpoint ddpm --steps 8 --sampler ddim --kind trajectory --n 8 --out ddpm-traj.png
  samp --checkpoint ddpm --kind forward --n 8 --out ddpm-fwd.png
fi
samp --checkpoint ddpm --n 8 --steps 8 --eta 1 --out ddpm-eta1.png

train noisy --model noisy-classifier --set diffusion.timesteps=40
samp --checkpoint ddpm --n 8 --steps 8 --sampler ddim --guidance classifier $GUIDE noisy --class 3 --scale 2 --out ddpm-guided.png
samp --checkpoint ddpm --n 8 --steps 40 --guidance classifier $GUIDE noisy --class 7 --scale 1 --out ddpm-guided-anc.png

train cddpm --model ddpm --set ddpm.conditional=true "${DIFF[@]}"
samp --checkpoint cddpm --n 8 --steps 8 --sampler ddim --guidance cfg --class 3 --scale 3 --out cddpm-cfg.png
samp --checkpoint cddpm --n 8 --steps 8 --sampler ddim --class 5 --out cddpm-5.png

train realnvp --model realnvp --set realnvp.arch=mlp --set realnvp.hidden=64
samp --checkpoint realnvp --n 16 --temperature 0.7 --out realnvp.png

train realnvp-ms --model realnvp --set realnvp.channels=8 --set realnvp.blocks=1
samp --checkpoint realnvp-ms --n 16 --temperature 0.7 --out realnvp-ms.png

train glow --model glow --set glow.steps=2 --set glow.hidden=16
samp --checkpoint glow --n 16 --out glow.png
samp --checkpoint glow --kind temperatures --n 12 --out glow-temps.png

# Figures as well as files: eval's JSON less its timings.
for run in vae gan dcgan ddpm realnvp realnvp-ms glow; do
  extra=(); [ "$run" = ddpm ] && extra=(--steps 5 --sampler ddim)
  "$BIN" eval --checkpoint "$run" --n 50 --seed 1 --json "${extra[@]}" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); [d.pop(k,None) for k in list(d) if "per_s" in k or "second" in k or k.endswith("_s")]; print(json.dumps(d, sort_keys=True))' > "eval-$run.json"
done
find . -type f \( -name '*.safetensors' -o -name '*.png' -o -name 'eval-*.json' \) ! -path '*/plots/*' | sort | xargs sha256sum
