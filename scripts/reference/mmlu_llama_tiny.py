"""MMLU choice-logit reference for llama/mmlu's Evaluate parity test.

usage: mmlu_llama_tiny.py OUTDIR

Reads OUTDIR/prompts.json: {"tokenizer": path of a Llama-2 tokenizer.model, "texts": [prompt, ...],
"ids": [[token id, ...], ...]} (the prompts and ids built by the Go side).
For each variant ("tied", "untied": random LlamaForCausalLM with the tokenizer's 32000-token vocabulary, hidden 32,
2 layers, 4 heads, 2 kv heads) writes OUTDIR/<variant>/ (save_pretrained: config.json, model.safetensors).
Writes OUTDIR/ref.json:
  ids:        the prompts tokenized by transformers' slow (SentencePiece) LlamaTokenizer with its defaults (BOS
              added, legacy), which slow_llama.py restates for transformers 5
  choice_ids: tokenizer(" A", add_special_tokens=False).input_ids[-1] for A..D
  choice_pieces: the token strings of those ids
  <variant>:  {"logits": [[4 floats]] next-token logits at the last position for the choice ids, each prompt run
               alone, "preds": argmax index}
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from slow_llama import SlowLlamaTokenizer

torch.set_num_threads(1)


def config(tied):
    return LlamaConfig(vocab_size=32000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                       rms_norm_eps=1e-5, rope_theta=10000.0, initializer_range=0.1, tie_word_embeddings=tied,
                       use_cache=False, attn_implementation="eager")


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "prompts.json")) as f:
        spec = json.load(f)
    tok = SlowLlamaTokenizer(spec["tokenizer"])
    ids = [tok(t).input_ids for t in spec["texts"]]
    choice_ids = [tok(" " + c, add_special_tokens=False).input_ids[-1] for c in "ABCD"]
    ref = {"ids": ids, "choice_ids": choice_ids, "choice_pieces": tok.convert_ids_to_tokens(choice_ids)}
    for i, name in enumerate(["tied", "untied"]):
        torch.manual_seed(300 + i)
        gen = torch.Generator().manual_seed(400 + i)
        model = LlamaForCausalLM(config(name == "tied")).eval()
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname:
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
        model.save_pretrained(os.path.join(out, name))
        logits, preds = [], []
        with torch.no_grad():
            for row in spec["ids"]:
                y = model(input_ids=torch.tensor([row])).logits[0, -1].float()
                v = y[choice_ids]
                logits.append(v.tolist())
                preds.append(int(torch.argmax(v)))
        ref[name] = {"logits": logits, "preds": preds}
    with open(os.path.join(out, "ref.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main()
