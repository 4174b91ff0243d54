"""Greedy generation and logits processing by transformers' generate for the Go generation tests.

usage:
  llama_generate.py tiny OUTDIR
      For each variant of tiny random Llama models (llama_tiny.config: tied, untied, llama3 rope scaling, dynamic
      NTK rope past max_position_embeddings, bias) writes OUTDIR/<variant>/ (save_pretrained) and
      OUTDIR/<variant>/ref.safetensors: prompt [B, P] (int64, B = 2 for "untied", else 1), tokens [B, N]
      (greedy, N = 12, no stop token) and logits [B, N, V] (the raw logits of each step, output_logits).
  llama_generate.py smollm2 FILE.gguf OUT.safetensors IDS N
      Greedy generation from the comma-separated prompt IDS on SmolLM2 (llama_smollm2.load_gguf), at most N new
      tokens, stopping at the GGUF's eos id as generate does: prompt [1, P], tokens [1, n ≤ N], logits [1, n, V].
  llama_generate.py process IN.safetensors CASES.json OUT.safetensors
      Applies transformers' logits processors in generate's order (repetition penalty, temperature, top-k, top-p)
      to IN's scores [R, V] for each case {"seen": [ids], "repetition_penalty", "temperature", "top_k", "top_p"}
      (a setting of 0 leaves its processor out; temperature 0 is greedy decoding, where generate adds no warper)
      and writes out_<i> [R, V].
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import LlamaForCausalLM
from transformers.generation.logits_process import (RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                                                    TopKLogitsWarper, TopPLogitsWarper)

from llama_tiny import config, randomize

torch.set_num_threads(1)

VARIANTS = {
    "tied": config(tie_word_embeddings=True),
    "untied": config(),
    "llama3": config(max_position_embeddings=1024, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 256}),
    "dynamic": config(max_position_embeddings=8, rope_scaling={"rope_type": "dynamic", "factor": 2.0}),
    "bias": config(attention_bias=True, mlp_bias=True),
}


def greedy(model, prompt, n, eos):
    with torch.no_grad():
        out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n,
                             do_sample=False, use_cache=True, eos_token_id=eos, pad_token_id=0,
                             output_logits=True, return_dict_in_generate=True)
    tokens = out.sequences[:, prompt.shape[1]:]
    logits = torch.stack(out.logits, dim=1).float()
    return {"prompt": prompt.contiguous(), "tokens": tokens.contiguous(), "logits": logits.contiguous()}


def tiny(out):
    for i, (name, cfg) in enumerate(VARIANTS.items()):
        torch.manual_seed(3000 + i)
        gen = torch.Generator().manual_seed(4000 + i)
        model = LlamaForCausalLM(cfg).eval()
        randomize(model, gen)
        model.generation_config.eos_token_id = None
        d = os.path.join(out, name)
        model.save_pretrained(d)
        b = 2 if name == "untied" else 1
        prompt = torch.randint(1, cfg.vocab_size, (b, 7), generator=gen)
        save_file(greedy(model, prompt, 12, None), os.path.join(d, "ref.safetensors"))


def smollm2(path, out, ids, n):
    from llama_smollm2 import field, load_gguf
    model, r = load_gguf(path)
    model.eval()
    prompt = torch.tensor([[int(x) for x in ids.split(",")]], dtype=torch.int64)
    save_file(greedy(model, prompt, int(n), field(r, "tokenizer.ggml.eos_token_id")), out)


def process(inp, cases_path, out):
    scores = load_file(inp)["scores"]
    with open(cases_path) as f:
        cases = json.load(f)
    res = {}
    for i, c in enumerate(cases):
        procs = []
        if c["repetition_penalty"]:
            procs.append(RepetitionPenaltyLogitsProcessor(float(c["repetition_penalty"])))
        if c["temperature"]:  # generate's warpers, as _get_logits_processor adds them when sampling
            if c["temperature"] != 1:
                procs.append(TemperatureLogitsWarper(float(c["temperature"])))
            if c["top_k"]:
                procs.append(TopKLogitsWarper(c["top_k"]))
            if c["top_p"] and c["top_p"] < 1:
                procs.append(TopPLogitsWarper(float(c["top_p"])))
        seen = torch.tensor([c["seen"] or []] * scores.shape[0], dtype=torch.int64)
        s = scores.clone()
        for p in procs:
            s = p(seen, s)
        res[f"out_{i}"] = s.contiguous()
    save_file(res, out)


if __name__ == "__main__":
    {"tiny": tiny, "smollm2": smollm2, "process": process}[sys.argv[1]](*sys.argv[2:])
