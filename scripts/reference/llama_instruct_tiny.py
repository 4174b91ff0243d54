"""Tiny random Llama for the instruction-tuning and Llama GLUE command tests, and its reference loss and LoRA+ step.

usage:
  llama_instruct_tiny.py model OUTDIR   writes a tiny random LlamaForCausalLM (the Llama-2 vocabulary of 32000
                                        tokens, hidden 16, 2 layers, 4 heads, 2 kv heads) with save_pretrained
  llama_instruct_tiny.py ref DIR        reads DIR/model (the tiny model), DIR/batch.safetensors (ids, mask, labels
                                        [B, T] int64, labels -100 on the prompt and padding), DIR/adapter (a PEFT
                                        adapter) and DIR/job.json (lr, ratio, lr_embedding, beta1, beta2, eps,
                                        weight_decay); writes DIR/out.safetensors: base_loss (the model's causal-LM
                                        loss with these labels), loss (the same with the adapter) and every
                                        trainable tensor after one torch AdamW step over the official LoRA+ groups
                                        (lora_plus.py's create_loraplus_optimizer), under PEFT names without
                                        "base_model.model." and ".default".
"""
import json
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.pytorch_utils import ALL_LAYERNORM_LAYERS
from transformers.trainer_pt_utils import get_parameter_names

torch.set_num_threads(1)


def make_model(out):
    torch.manual_seed(7)
    cfg = LlamaConfig(vocab_size=32000, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0,
                      initializer_range=0.1, tie_word_embeddings=False, use_cache=False, bos_token_id=1, eos_token_id=2,
                      attn_implementation="eager")
    LlamaForCausalLM(cfg).save_pretrained(out)


def official_groups(model):
    decay = [n for n in get_parameter_names(model, ALL_LAYERNORM_LAYERS) if "bias" not in n]
    groups = {"A": [], "B": [], "B_no_decay": []}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if "lora_B" in name or p.ndim == 1:
            groups["B" if name in decay else "B_no_decay"].append(p)
        else:
            groups["A"].append(p)
    return groups


def short(name):
    return name.removeprefix("base_model.model.").replace(".default", "")


def ref(d):
    job = json.load(open(os.path.join(d, "job.json")))
    b = load_file(os.path.join(d, "batch.safetensors"))
    base = LlamaForCausalLM.from_pretrained(os.path.join(d, "model"), attn_implementation="eager", dtype=torch.float32)
    out = {}
    with torch.no_grad():
        out["base_loss"] = base(input_ids=b["ids"], attention_mask=b["mask"], labels=b["labels"]).loss.reshape(1)
    pm = PeftModel.from_pretrained(base, os.path.join(d, "adapter"), is_trainable=True)
    pm.train()
    lr, ratio, wd = job["lr"], job["ratio"], job["weight_decay"]
    g = official_groups(pm)
    settings = {"A": (lr, wd), "B": (lr * ratio, wd), "B_no_decay": (lr * ratio, 0.0)}
    groups = [{"params": g[k], "lr": settings[k][0], "weight_decay": settings[k][1]} for k in ["A", "B", "B_no_decay"] if g[k]]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
    loss = pm(input_ids=b["ids"], attention_mask=b["mask"], labels=b["labels"]).loss
    loss.backward()
    opt.step()
    out["loss"] = loss.detach().reshape(1)
    for name, p in pm.named_parameters():
        if p.requires_grad:
            out[short(name)] = p.detach().clone().contiguous()
    save_file(out, os.path.join(d, "out.safetensors"))


if __name__ == "__main__":
    {"model": make_model, "ref": ref}[sys.argv[1]](sys.argv[2])
