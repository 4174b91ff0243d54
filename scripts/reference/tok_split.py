"""Reference Split pre-tokenization and token ids from Hugging Face tokenizers (the Rust library's Python
binding, without transformers) for the nn/tokenizer Split and random-text parity tests.

Usage: tok_split.py REQUEST.json RESULT.json

REQUEST:
  {"splits": [{"regex": str} or {"string": str}, with "behavior" (Removed, Isolated, MergedWithPrevious,
               MergedWithNext, Contiguous) and "invert", ...],
   "split_texts": [str, ...],
   "class_splits": [split, ...], "class_text": str,   more splits, each run on class_text only
   "tokenizers": {"<name>": "path/to/tokenizer.json", ...},
   "texts": [str, ...]}

RESULT:
  {"splits": [[[piece, ...] for each split_text] for each split],   pre_tokenizers.Split(...).pre_tokenize_str
   "errors": [null or the error message for each split],
   "class_splits": [[piece, ...] for each class split],
   "encode": {"<name>": [[id, ...] for each text]},                  Tokenizer.from_file(path).encode(text).ids
   "encode_raw": {"<name>": [[id, ...] for each text]}}              the same with add_special_tokens=False
"""

import json
import sys

BEHAVIORS = {
    "Removed": "removed",
    "Isolated": "isolated",
    "MergedWithPrevious": "merged_with_previous",
    "MergedWithNext": "merged_with_next",
    "Contiguous": "contiguous",
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: tok_split.py REQUEST.json RESULT.json")
    from tokenizers import Regex, Tokenizer, pre_tokenizers

    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    out = {"splits": [], "errors": [], "class_splits": [], "encode": {}, "encode_raw": {}}

    def make(spec):
        pattern = Regex(spec["regex"]) if "regex" in spec else spec["string"]
        return pre_tokenizers.Split(pattern, BEHAVIORS[spec["behavior"]], invert=spec.get("invert", False))

    for spec in req.get("splits") or []:
        try:
            split = make(spec)
        except Exception as e:  # a pattern Oniguruma refuses
            out["splits"].append(None)
            out["errors"].append(str(e))
            continue
        out["splits"].append([[p for p, _ in split.pre_tokenize_str(t)] for t in req["split_texts"]])
        out["errors"].append(None)
    for spec in req.get("class_splits") or []:
        out["class_splits"].append([p for p, _ in make(spec).pre_tokenize_str(req["class_text"])])
    for name, path in (req.get("tokenizers") or {}).items():
        tk = Tokenizer.from_file(path)
        texts = req["texts"]
        out["encode"][name] = [e.ids for e in tk.encode_batch(texts, add_special_tokens=True)]
        out["encode_raw"][name] = [e.ids for e in tk.encode_batch(texts, add_special_tokens=False)]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
