"""Tiny random Llama models and their outputs from transformers for the Go parity tests.

usage: llama_tiny.py OUTDIR

For each variant (vocab 128, hidden 64, 2 layers, 4 heads, 2 kv heads, intermediate 96) writes
OUTDIR/<variant>/ with save_pretrained's config.json and model.safetensors, and OUTDIR/<variant>/ref.safetensors:
  ids [B, T] (int64), mask [B, T] (int64; rows full, right-padded and left-padded), logits [B, T, V] (fp32),
  cos, sin [T, D] and inv_freq [D/2] of the model's rotary embedding for positions 0..T-1, and loss [1], the
  language-model loss with labels = ids, padding set to -100 (0 for seqcls).
Variants: tied, untied, linear (rope_scaling linear), dynamic (dynamic NTK, T > max_position_embeddings),
llama3 (llama3 scaling), bias (attention_bias and mlp_bias), sharded (untied, saved in several shards),
seqcls (LlamaForSequenceClassification, 3 labels, pad_token_id 0; logits [B, 3]).
OUTDIR/rmsnorm.safetensors: x, weight, y (fp32) and x_bf16, y_bf16 of LlamaRMSNorm.
"""
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification
from transformers.models.llama.modeling_llama import LlamaRMSNorm

torch.set_num_threads(1)

B, T, V = 3, 12, 128


def config(**kw):
    base = dict(vocab_size=V, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0, initializer_range=0.1,
                tie_word_embeddings=False, use_cache=False, attn_implementation="eager")
    base.update(kw)
    return LlamaConfig(**base)


VARIANTS = {
    "tied": config(tie_word_embeddings=True),
    "untied": config(),
    "linear": config(rope_scaling={"type": "linear", "factor": 2.0}),
    "dynamic": config(max_position_embeddings=8, rope_scaling={"rope_type": "dynamic", "factor": 2.0}),
    "llama3": config(max_position_embeddings=1024, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                       "high_freq_factor": 4.0,
                                                       "original_max_position_embeddings": 256}),
    "bias": config(attention_bias=True, mlp_bias=True),
    "sharded": config(),
    "seqcls": config(pad_token_id=0, num_labels=3),
}


def batch(gen):
    ids = torch.randint(1, V, (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.int64)
    mask[1, 7:] = 0  # right padding
    mask[2, :4] = 0  # left padding
    ids[mask == 0] = 0
    return ids, mask


def randomize(model, gen):
    # transformers' init leaves biases at 0 and norms at 1; perturb them so that they are exercised
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


def main():
    out = sys.argv[1]
    for i, (name, cfg) in enumerate(VARIANTS.items()):
        torch.manual_seed(1000 + i)
        gen = torch.Generator().manual_seed(2000 + i)
        cls = LlamaForSequenceClassification if name == "seqcls" else LlamaForCausalLM
        model = cls(cfg).eval()
        randomize(model, gen)
        d = os.path.join(out, name)
        model.save_pretrained(d, max_shard_size="100KB" if name == "sharded" else "5GB")
        ids, mask = batch(gen)
        if name == "seqcls":
            # the full row has the pad id inside its text: transformers pools its rightmost non-pad token (the last
            # one), not the token before its first pad id
            ids[0, 3] = 0
            ids[0, -1] = 5
        labels = ids.masked_fill(mask == 0, -100)
        with torch.no_grad():
            res = model(input_ids=ids, attention_mask=mask, labels=None if name == "seqcls" else labels)
            logits = res.logits.float()
            pos = torch.arange(T)[None, :]
            x = torch.zeros(1, T, cfg.hidden_size)
            cos, sin = model.model.rotary_emb(x, pos)
        save_file({"ids": ids.contiguous(), "mask": mask.contiguous(), "logits": logits.contiguous(),
                   "cos": cos[0].contiguous(), "sin": sin[0].contiguous(),
                   "inv_freq": model.model.rotary_emb.inv_freq.float().contiguous(),
                   "loss": (res.loss if res.loss is not None else torch.zeros(())).reshape(1).float()},
                  os.path.join(d, "ref.safetensors"))

    gen = torch.Generator().manual_seed(7)
    norm = LlamaRMSNorm(64, eps=1e-5)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.1 * torch.randn(64, generator=gen))
        x = 3 * torch.randn(2, 5, 64, generator=gen)
        y = norm(x)
        xb = x.to(torch.bfloat16)
        normb = LlamaRMSNorm(64, eps=1e-5).to(torch.bfloat16)
        normb.weight.copy_(norm.weight.to(torch.bfloat16))
        yb = normb(xb)
    save_file({"x": x, "weight": norm.weight.detach().clone(), "y": y, "x_bf16": xb, "y_bf16": yb},
              os.path.join(out, "rmsnorm.safetensors"))


if __name__ == "__main__":
    main()
