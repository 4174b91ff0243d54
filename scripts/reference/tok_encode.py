"""Reference token ids from Hugging Face tokenizers for the nn/tokenizer parity tests.

Usage: tok_encode.py REQUEST.json RESULT.json

REQUEST:
  {"tokenizers": [{"name": ..., "kind": ..., "path": ..., "pad": optional pad token}, ...],
   "texts": [str, ...], "pairs": [[str, str], ...], "max_length": int,
   "decode": {"<name>": [[id, ...], ...]}}

kind:
  fast_dir       PreTrainedTokenizerFast.from_pretrained(path): the directory's tokenizer.json as written, with
                 tokenizer_config.json's special tokens and add_bos_token/add_eos_token. This is what AutoTokenizer
                 loaded before transformers 5; AutoTokenizer in 5 rebuilds a Llama tokenizer's normalizer and
                 pre-tokenizer from its class, which drops the legacy (Prepend/Replace) layout of a file.
  fast_file      PreTrainedTokenizerFast(tokenizer_file=path)
  llama_slow     transformers 4's slow (SentencePiece) LlamaTokenizer on path/tokenizer.model, default (legacy)
                 settings (slow_llama.py: transformers 5 no longer has the class)
  sentencepiece  sentencepiece.SentencePieceProcessor(model_file=path)

RESULT: {"<name>": {field: ...}} with, for every text / pair, in request order:
  encode, encode_raw          ids with / without special tokens
  encode_literal              ids with special tokens in the text not recognised (fast: split_special_tokens;
                              sentencepiece: its plain encode)
  pairs, pairs_raw            {"ids", "type_ids"} of each pair
  batch_max                   {"input_ids", "attention_mask"}: truncation + padding to max_length
  batch_left                  batch_max padded on the left
  batch_longest               the same with max_length=128 and padding to the longest row
  pair_batch                  {"input_ids", "attention_mask", "token_type_ids"}: pairs, longest_first
  decode_skip, decode_keep    decode(encode(text)) without / with special tokens (no clean-up of spaces)
  decode_ids                  decode of the request's id lists, skipping special tokens
Fields a kind cannot produce are left out. A tokenizer without a pad token pads with the spec's "pad" token, else with its eos token.
"""

import json
import os
import sys
import warnings


def load(spec):
    kind, path = spec["kind"], spec["path"]
    if kind == "fast_dir":
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(path)
    if kind == "fast_file":
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast(tokenizer_file=path)
    if kind == "llama_slow":
        from slow_llama import SlowLlamaTokenizer

        return SlowLlamaTokenizer(os.path.join(path, "tokenizer.model"))
    if kind == "sentencepiece":
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=path)
    raise ValueError(f"unknown kind {kind}")


def run_sentencepiece(sp, req, name):
    texts = req["texts"]
    raw = [sp.encode(t) for t in texts]
    out = {
        "encode_literal": raw,
        "encode_literal_special": [[sp.bos_id()] + ids for ids in raw],
        "decode_skip": [sp.decode(ids) for ids in raw],
    }
    if name in req.get("decode", {}):
        out["decode_ids"] = [sp.decode(ids) for ids in req["decode"][name]]
    return out


def run_transformers(tok, req, name, fast, pad):
    texts, pairs, max_len = req["texts"], req["pairs"], req["max_length"]
    if tok.pad_token is None:
        tok.pad_token = pad or tok.eos_token
    # Llama's tokenizers pad on the left by default; the batch fields are right-padded, batch_left left.
    tok.padding_side = "right"
    out = {}
    out["encode"] = [tok.encode(t, add_special_tokens=True) for t in texts]
    out["encode_raw"] = [tok.encode(t, add_special_tokens=False) for t in texts]
    if fast:
        backend = tok.backend_tokenizer
        backend.encode_special_tokens = True
        out["encode_literal"] = [backend.encode(t, add_special_tokens=False).ids for t in texts]
        backend.encode_special_tokens = False

    def pair_fields(add):
        res = []
        for a, b in pairs:
            # The slow tokenizers refuse token type ids without special tokens.
            types = True if (add or fast) else None
            enc = tok(a, b, add_special_tokens=add, return_token_type_ids=types)
            res.append({"ids": enc["input_ids"], "type_ids": enc.get("token_type_ids")})
        return res

    out["pairs"] = pair_fields(True)
    out["pairs_raw"] = pair_fields(False)
    enc = tok(texts, truncation=True, max_length=max_len, padding="max_length")
    out["batch_max"] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    tok.padding_side = "left"
    enc = tok(texts, truncation=True, max_length=max_len, padding="max_length")
    out["batch_left"] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    tok.padding_side = "right"
    enc = tok(texts, truncation=True, max_length=128, padding="longest")
    out["batch_longest"] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    enc = tok(
        [a for a, _ in pairs],
        [b for _, b in pairs],
        truncation="longest_first",
        max_length=max_len,
        padding="max_length",
        return_token_type_ids=True,
    )
    out["pair_batch"] = {
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
        "token_type_ids": enc["token_type_ids"],
    }
    dec = lambda ids, skip: tok.decode(ids, skip_special_tokens=skip, clean_up_tokenization_spaces=False)
    out["decode_skip"] = [dec(ids, True) for ids in out["encode"]]
    out["decode_keep"] = [dec(ids, False) for ids in out["encode"]]
    if name in req.get("decode", {}):
        out["decode_ids"] = [dec(ids, True) for ids in req["decode"][name]]
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tok_encode.py REQUEST.json RESULT.json")
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Tokenizers need no framework; keeping torch out cuts the start-up from ~20 s to ~1 s.
    for k in ("USE_TORCH", "USE_TF", "USE_FLAX"):
        os.environ[k] = "0"
    from transformers.utils import logging

    logging.set_verbosity_error()
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    result = {}
    for spec in req["tokenizers"]:
        tok = load(spec)
        if spec["kind"] == "sentencepiece":
            result[spec["name"]] = run_sentencepiece(tok, req, spec["name"])
        else:
            result[spec["name"]] = run_transformers(tok, req, spec["name"], spec["kind"] != "llama_slow", spec.get("pad"))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
