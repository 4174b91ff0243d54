"""Writes a Llama-2-7B-shaped checkpoint with random weights, in the Hugging Face layout save_pretrained uses for
a sharded model: config.json, generation_config.json, model-0000k-of-0000n.safetensors and
model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"}).

usage: make_llama7b.py OUT [--dtype bfloat16] [--shard-gb 2] [--seed 0] [--device cpu|cuda] [--tokenizer FILE]
                             [--layers 32]

Shapes are Llama-2-7b-hf's (hidden 4096, 32 layers, 32 heads, MLP 11008, vocab 32000, 4096 positions): 6.74 B
parameters, 13.5 GB in bf16. Linear and embedding weights are N(0, 0.02) as transformers initialises them, the
RMSNorm weights 1, so the model's activations stay finite through all 32 layers; nothing here is pretrained.
Tensors are made one at a time (seeded, on --device) and written shard by shard, so memory stays near one shard.
--tokenizer copies a SentencePiece tokenizer.model (Llama-2's) beside the weights, for the commands that tokenize
text. --layers makes a shallower model of the same width (for a quick rehearsal). The directory is written under a
temporary name and renamed when complete.

The benchmark (cmd/bench -rows llama7b-cls,llama7b-lm -llama7b OUT) and the device check use it; it is a
benchmark fixture, not part of the library.
"""
import argparse
import json
import os
import shutil
import sys
import time

import torch
from safetensors.torch import save_file

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 4096,
    "vocab_size": 32000,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "hidden_act": "silu",
    "initializer_range": 0.02,
    "attention_bias": False,
    "mlp_bias": False,
    "tie_word_embeddings": False,
    "pretraining_tp": 1,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    "torch_dtype": "bfloat16",
}


def tensors(cfg):
    """(name, shape, kind) in the order save_pretrained writes a Llama: embeddings, layers, norm, lm_head."""
    h, m, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    kv = h // cfg["num_attention_heads"] * cfg["num_key_value_heads"]
    yield "model.embed_tokens.weight", (v, h), "normal"
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,), "ones"
        yield p + "self_attn.q_proj.weight", (h, h), "normal"
        yield p + "self_attn.k_proj.weight", (kv, h), "normal"
        yield p + "self_attn.v_proj.weight", (kv, h), "normal"
        yield p + "self_attn.o_proj.weight", (h, h), "normal"
        yield p + "post_attention_layernorm.weight", (h,), "ones"
        yield p + "mlp.gate_proj.weight", (m, h), "normal"
        yield p + "mlp.up_proj.weight", (m, h), "normal"
        yield p + "mlp.down_proj.weight", (h, m), "normal"
    yield "model.norm.weight", (h,), "ones"
    yield "lm_head.weight", (v, h), "normal"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    p.add_argument("--shard-gb", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--tokenizer", default="")
    p.add_argument("--layers", type=int, default=32)
    a = p.parse_args()

    cfg = dict(CONFIG, num_hidden_layers=a.layers, torch_dtype=a.dtype)
    dtype = getattr(torch, a.dtype)
    std = cfg["initializer_range"]
    gen = torch.Generator(device=a.device).manual_seed(a.seed)
    tmp = a.out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)

    limit = int(a.shard_gb * 1e9)
    shards, cur, size, total = [], {}, 0, 0
    t0 = time.time()
    for name, shape, kind in tensors(cfg):
        if kind == "ones":
            t = torch.ones(shape, dtype=dtype)
        else:
            t = torch.empty(shape, dtype=dtype, device=a.device).normal_(0.0, std, generator=gen).cpu()
        n = t.numel() * t.element_size()
        if cur and size + n > limit:
            shards.append(cur)
            save_file(cur, os.path.join(tmp, f"shard-{len(shards)}.tmp"), metadata={"format": "pt"})
            print(f"make_llama7b: shard {len(shards)} ({size / 1e9:.2f} GB) after {time.time() - t0:.0f} s",
                  file=sys.stderr, flush=True)
            cur = {k: None for k in cur}  # keep the names for the index, drop the tensors
            shards[-1] = cur
            cur, size = {}, 0
        cur[name] = t
        size += n
        total += n
    shards.append(cur)
    save_file(cur, os.path.join(tmp, f"shard-{len(shards)}.tmp"), metadata={"format": "pt"})

    count = len(shards)
    weight_map = {}
    for i, names in enumerate(shards, 1):
        final = f"model-{i:05d}-of-{count:05d}.safetensors"
        os.rename(os.path.join(tmp, f"shard-{i}.tmp"), os.path.join(tmp, final))
        for name in names:
            weight_map[name] = final
    with open(os.path.join(tmp, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}, f, indent=2)
    if a.tokenizer:
        shutil.copyfile(a.tokenizer, os.path.join(tmp, "tokenizer.model"))
    shutil.rmtree(a.out, ignore_errors=True)
    os.rename(tmp, a.out)
    print(f"make_llama7b: {a.out}: {count} shards, {total / 1e9:.2f} GB, {sum(len(s) for s in shards)} tensors, "
          f"{time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
