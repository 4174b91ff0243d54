# Two commands do all set-up on a fresh machine: `make demo` and `make test` (see README.md).
# scripts/setup.sh is idempotent and fast once done; every target runs it first.
SHELL := /bin/bash
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: setup test demo bench bench-7b device-check device-rehearse vet fmt clean use

setup:
	@bash scripts/setup.sh

test: setup
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.gotch/*')); \
	 if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 40m ./...

demo: setup
	$(GO) run ./cmd/toy -out out/toy

# The project and the PyTorch+PEFT peer side by side (BENCHFLAGS=-quick for a short run; see go run ./cmd/bench -h).
bench: setup
	$(GO) run ./cmd/bench $(BENCHFLAGS)

# The Llama-2-7B-shaped rows (13.5 GB checkpoint of random bf16 weights in out/llama7b, made once; minutes per run).
bench-7b: setup out/llama7b/config.json
	$(GO) run ./cmd/bench -7b $(BENCHFLAGS)

out/llama7b/config.json:
	.venv/bin/python scripts/make_llama7b.py out/llama7b --tokenizer ../shared/data/tokenizers/llama2/tokenizer.model

# The GPU check (see README, "CUDA and the 7B scale"): pack CUDA-linked binaries for the GPU machine, or rehearse
# the packed run here on the CPU.
device-check: setup
	bash scripts/device-check.sh pack

device-rehearse: setup
	bash scripts/device-check.sh rehearse

# Prepare another Go module to import this library on the same generated gotch: make use DIR=../myproject
use:
	@test -n "$(DIR)" || { echo "usage: make use DIR=path/to/your/module" >&2; exit 2; }
	@bash scripts/use.sh "$(DIR)"

vet: setup
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf out .device .cache/setup.done
