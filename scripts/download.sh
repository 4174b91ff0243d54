#!/usr/bin/env bash
# Downloads what the finetunes need but no package registry ships, for machines with internet access:
#   scripts/download.sh glue DIR          GLUE MNLI, QQP, SST-2 and QNLI in the official layout: DIR/{MNLI,QQP,SST-2,QNLI}
#   scripts/download.sh model NAME DIR    a Hugging Face model directory (config, safetensors weights, tokenizer
#                                         files), e.g. gpt2, roberta-base, huggyllama/llama-7b (sharded)
# Then: go run ./cmd/glue -task mnli -model DIR/gpt2 -data DIR/glue
# Files already present are kept. Requires curl and unzip.
set -euo pipefail

glue_url=https://dl.fbaipublicfiles.com/glue/data
hf_url=https://huggingface.co

fetch() { # URL FILE
	[ -s "$2" ] && return 0
	echo "downloading $1" >&2
	curl -fL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"
}

glue() {
	local dir=$1
	mkdir -p "$dir"
	# zip name → directory it unpacks to
	for pair in MNLI:MNLI QQP-clean:QQP SST-2:SST-2 QNLIv2:QNLI; do
		local zip=${pair%%:*} task=${pair##*:}
		if [ -f "$dir/$task/train.tsv" ]; then continue; fi
		fetch "$glue_url/$zip.zip" "$dir/$zip.zip"
		unzip -q -o "$dir/$zip.zip" -d "$dir"
		rm -f "$dir/$zip.zip"
	done
	ls -d "$dir"/*/
}

model() {
	local name=$1 dir=$2 f
	mkdir -p "$dir"
	fetch "$hf_url/$name/resolve/main/config.json" "$dir/config.json"
	# weights: one safetensors file, or shards listed in the index
	if ! fetch "$hf_url/$name/resolve/main/model.safetensors" "$dir/model.safetensors" 2>/dev/null; then
		rm -f "$dir/model.safetensors.part"
		fetch "$hf_url/$name/resolve/main/model.safetensors.index.json" "$dir/model.safetensors.index.json"
		for f in $(grep -o '"[^"]*\.safetensors"' "$dir/model.safetensors.index.json" | tr -d '"' | sort -u); do
			fetch "$hf_url/$name/resolve/main/$f" "$dir/$f"
		done
	fi
	for f in tokenizer.json vocab.json merges.txt tokenizer.model tokenizer_config.json special_tokens_map.json; do
		fetch "$hf_url/$name/resolve/main/$f" "$dir/$f" 2>/dev/null || rm -f "$dir/$f.part"
	done
	ls "$dir"
}

case "${1:-}" in
glue) glue "${2:?usage: download.sh glue DIR}" ;;
model) model "${2:?usage: download.sh model NAME DIR}" "${3:?usage: download.sh model NAME DIR}" ;;
*)
	sed -n '2,8p' "$0" >&2
	exit 2
	;;
esac
