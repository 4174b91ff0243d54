"""Encodes GLUE examples the way Hugging Face's run_glue.py does, for the glue tokenization parity test.

Usage: glue_tokenize.py REQUEST.json

REQUEST: {"tokenizers": {NAME: DIR, ...}, "legacy": [NAME, ...],
          "cases": [{"a": str, "b": str or null, "max_length": int}, ...]}

Each DIR is loaded with AutoTokenizer.from_pretrained, or for a name in "legacy" with
PreTrainedTokenizerFast.from_pretrained: the directory's tokenizer.json as written, which is what
AutoTokenizer loaded before transformers 5 (transformers 5 rebuilds a Llama tokenizer's normalizer from its
class and no longer puts the "▁" piece before a text that starts with a space). Every case is encoded as run_glue.py's
preprocess_function does without padding: tokenizer(a, b, truncation=True, max_length=L) (b left out when
null). Output, on stdout: {NAME: [{"input_ids", "attention_mask", "token_type_ids" (null when the tokenizer
returns none)}, ...]}, one entry per case in request order.
"""

import json
import os
import sys
import warnings


def main(argv):
    if len(argv) != 1:
        sys.exit(__doc__)
    warnings.filterwarnings("ignore")
    # Tokenizers need no framework; keeping torch out cuts the start-up.
    for k in ("USE_TORCH", "USE_TF", "USE_FLAX"):
        os.environ[k] = "0"
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    with open(argv[0], encoding="utf-8") as f:
        req = json.load(f)
    out = {}
    for name, path in req["tokenizers"].items():
        load = PreTrainedTokenizerFast if name in req.get("legacy", []) else AutoTokenizer
        tok = load.from_pretrained(path)
        rows = []
        for c in req["cases"]:
            args = (c["a"],) if c["b"] is None else (c["a"], c["b"])
            enc = tok(*args, truncation=True, max_length=c["max_length"])
            rows.append(
                {
                    "input_ids": enc["input_ids"],
                    "attention_mask": enc["attention_mask"],
                    "token_type_ids": enc.get("token_type_ids"),
                }
            )
        out[name] = rows
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
