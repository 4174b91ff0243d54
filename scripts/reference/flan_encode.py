"""Instruction-tuning encoding reference for llama/instruct's parity tests.

Encodes JSONL records with the logic of open-instruct's finetune.py
(encode_with_prompt_completion_format and encode_with_messages_format),
with {"inputs", "targets"} records mapped onto the prompt/completion layout.
Instead of a Hugging Face tokenizer it uses a small deterministic tokenizer,
toy_encode below, that the Go test implements identically; it behaves like a real
one in the ways that matter here: it prepends a BOS id, treats "</s>" as a
special token, and merges a space into the following word, so a prefix does
not always tokenize to a prefix of the full text.

With --tokenizer KIND:PATH the same logic runs on a real tokenizer instead, as open-instruct calls it
(tokenizer(text, max_length=..., truncation=True).input_ids): llama_slow:DIR is the Llama-2 SentencePiece
tokenizer DIR/tokenizer.model as transformers 4's LlamaTokenizer loads it (slow_llama.py), fast_file:FILE a
tokenizer.json through PreTrainedTokenizerFast; --eos names the end-of-sequence token of a tokenizer.json that
does not say it.

Writes one JSON object to stdout: {"records": [{"line", "text",
"encodings": {max_len: {"input_ids", "labels"}}}]}.
"""

import argparse
import json
import os
import sys
import zlib

EOS = "</s>"
BOS_ID, EOS_ID, VOCAB = 1, 2, 32000


def toy_pieces(chunk):
    pieces, i = [], 0
    alnum = lambda c: c.isascii() and c.isalnum()
    while i < len(chunk):
        j = i
        if chunk[i] == " " and i + 1 < len(chunk) and alnum(chunk[i + 1]):
            j = i + 1
        if alnum(chunk[j]):
            while j < len(chunk) and alnum(chunk[j]):
                j += 1
        else:
            j += 1
        pieces.append(chunk[i:j])
        i = j
    return pieces


def toy_encode(text):
    ids = [BOS_ID]
    for n, chunk in enumerate(text.split(EOS)):
        if n > 0:
            ids.append(EOS_ID)
        ids += [zlib.crc32(p.encode("utf-8")) % VOCAB + 3 for p in toy_pieces(chunk)]
    return ids


class ToyTokenizer:
    eos_token = EOS

    def __call__(self, text, max_length):
        # tokenizer(text, max_length=..., truncation=True).input_ids
        return toy_encode(text)[:max_length]


class HFTokenizer:
    def __init__(self, spec, eos):
        kind, path = spec.split(":", 1)
        if kind == "llama_slow":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from slow_llama import SlowLlamaTokenizer

            self.tok = SlowLlamaTokenizer(os.path.join(path, "tokenizer.model"))
        elif kind == "fast_file":
            from transformers import PreTrainedTokenizerFast

            self.tok = PreTrainedTokenizerFast(tokenizer_file=path, eos_token=eos)
        else:
            raise SystemExit(f"unknown tokenizer kind {kind}")
        self.eos_token = self.tok.eos_token

    def __call__(self, text, max_length):
        return self.tok(text, max_length=max_length, truncation=True).input_ids


def mask(labels, start, end):
    # labels[:, start:end] = -100
    for i in range(len(labels))[start:end]:
        labels[i] = -100


def encode_with_prompt_completion_format(example, tokenizer, max_seq_length):
    if not example["prompt"].endswith((" ", "\n", "\t")) and not example["completion"].startswith((" ", "\n", "\t")):
        example_text = example["prompt"] + " " + example["completion"]
    else:
        example_text = example["prompt"] + example["completion"]
    example_text = example_text + tokenizer.eos_token
    input_ids = tokenizer(example_text, max_seq_length)
    labels = list(input_ids)
    tokenized_prompt = tokenizer(example["prompt"], max_seq_length)
    mask(labels, 0, len(tokenized_prompt))
    return example_text, input_ids, labels


def encode_with_messages_format(example, tokenizer, max_seq_length):
    messages = example["messages"]
    if len(messages) == 0:
        raise ValueError("messages field is empty.")

    def _concat_messages(messages):
        message_text = ""
        for message in messages:
            if message["role"] == "system":
                message_text += "<|system|>\n" + message["content"].strip() + "\n"
            elif message["role"] == "user":
                message_text += "<|user|>\n" + message["content"].strip() + "\n"
            elif message["role"] == "assistant":
                message_text += "<|assistant|>\n" + message["content"].strip() + tokenizer.eos_token + "\n"
            else:
                raise ValueError("Invalid role: {}".format(message["role"]))
        return message_text

    example_text = _concat_messages(messages).strip()
    input_ids = tokenizer(example_text, max_seq_length)
    labels = list(input_ids)

    for message_idx, message in enumerate(messages):
        if message["role"] != "assistant":
            if message_idx == 0:
                message_start_idx = 0
            else:
                message_start_idx = len(tokenizer(_concat_messages(messages[:message_idx]), max_seq_length))
            if message_idx < len(messages) - 1 and messages[message_idx + 1]["role"] == "assistant":
                messages_so_far = _concat_messages(messages[: message_idx + 1]) + "<|assistant|>\n"
            else:
                messages_so_far = _concat_messages(messages[: message_idx + 1])
            message_end_idx = len(tokenizer(messages_so_far, max_seq_length))
            mask(labels, message_start_idx, message_end_idx)
            if message_end_idx >= max_seq_length:
                break
    return example_text, input_ids, labels


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--file", required=True)
    p.add_argument("--max_lens", default="512")
    p.add_argument("--tokenizer", help="KIND:PATH of a real tokenizer (default: the toy tokenizer)")
    p.add_argument("--eos", help="the end-of-sequence token of a fast_file tokenizer")
    args = p.parse_args()
    max_lens = [int(x) for x in args.max_lens.split(",")]
    tok = HFTokenizer(args.tokenizer, args.eos) if args.tokenizer else ToyTokenizer()
    records = []
    with open(args.file, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip(" \t\r\n"):
                continue
            ex = json.loads(line)
            if "messages" in ex:
                encode = encode_with_messages_format
            else:
                ex = {"prompt": ex["inputs"], "completion": ex["targets"]}
                encode = encode_with_prompt_completion_format
            rec = {"line": line_no, "eos": tok.eos_token, "encodings": {}}
            for m in max_lens:
                text, ids, labels = encode(ex, tok, m)
                rec["text"] = text
                rec["encodings"][str(m)] = {"input_ids": ids, "labels": labels}
            records.append(rec)
    json.dump({"records": records}, sys.stdout)


if __name__ == "__main__":
    main()
