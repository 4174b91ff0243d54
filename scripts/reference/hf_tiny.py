"""Tiny random GPT-2 and RoBERTa sequence classifiers (transformers) for the Go parity tests of nn.

usage: hf_tiny.py make ARCH DIR     ARCH is gpt2 or roberta
  writes Hugging Face model directories under DIR:
    st/       save_pretrained, model.safetensors (fp32)
    sharded/  save_pretrained with a small max_shard_size (model.safetensors.index.json + shards)
    bin/      pytorch_model.bin, the layout of save_pretrained(safe_serialization=False) before transformers 5
    binsharded/  the same with a small max_shard_size (pytorch_model.bin.index.json + shards)
    fp16/ bf16/          the model cast to fp16 / bf16, safetensors
    bin16/ binbf16/      the same as pytorch_model.bin
    base/     the bare GPT2Model / RobertaModel (keys without prefix, no head)
  and DIR/ref.safetensors: ids [B, T], mask [B, T], labels [B] (int64) and the eval-mode logits [B, 3] of the
  fp32 model on that padded batch.
  Attention is transformers' eager implementation, named explicitly: transformers 5 defaults to sdpa, while
  transformers 4.44 on torch 2.1.0 (its sdpa needs torch >= 2.1.1) ran eager.
usage: hf_tiny.py train ARCH DIR
  DIR/job.json (r, alpha, targets, head modules, lr, ratio, weight_decay, beta1, beta2, eps),
  DIR/init.safetensors (initial LoRA factors and head under PEFT names without "base_model.model."),
  the model of DIR/st and the batch of DIR/ref.safetensors. Runs one AdamW step with the LoRA+ groups of the
  official code (dropout 0, cross-entropy loss) and writes DIR/out.safetensors: every trainable tensor after the
  step, "grad.<name>" its gradient, "loss"; metadata "groups" (JSON).
"""
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
from huggingface_hub import split_torch_state_dict_into_shards
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import (GPT2Config, GPT2ForSequenceClassification, RobertaConfig,
                          RobertaForSequenceClassification)

from lora_ref import official_groups

torch.set_num_threads(1)

B, T, LENGTHS = 4, 9, [9, 5, 3, 7]


def build(arch):
    torch.manual_seed(0)
    if arch == "gpt2":
        cfg = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=100, n_positions=64, num_labels=3,
                         bos_token_id=99, eos_token_id=99, pad_token_id=99, attn_implementation="eager")
        model = GPT2ForSequenceClassification(cfg)
    else:
        cfg = RobertaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=66, type_vocab_size=1, num_labels=3,
                            pad_token_id=1, bos_token_id=0, eos_token_id=2, attn_implementation="eager")
        model = RobertaForSequenceClassification(cfg)
    with torch.no_grad():  # move every tensor off its default init (LayerNorm ones, zero biases)
        for name, p in model.named_parameters():
            p.add_(torch.randn_like(p) * (0.2 if name.startswith(("classifier.", "score.")) else 0.05))
    return model.eval()


def batch(arch):
    g = torch.Generator().manual_seed(1)
    ids = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        if arch == "gpt2":
            row = torch.full((T,), 99)
            row[:n] = torch.randint(0, 99, (n,), generator=g)
            if b == 0:
                # the pad id (GPT-2's eos) inside the text: transformers pools the rightmost non-pad token
                row[1] = 99
        else:
            row = torch.full((T,), 1)
            row[0], row[n - 1] = 0, 2
            row[1:n - 1] = torch.randint(3, 100, (n - 2,), generator=g)
        ids[b] = row
        mask[b, :n] = 1
    labels = torch.randint(0, 3, (B,), generator=g)
    return ids, mask, labels


def save_bin(model, d, max_shard_size="5GB"):
    """Save model as save_pretrained(safe_serialization=False) did before transformers 5 (which writes safetensors
    only): config.json, and the state dict pickled by torch.save into pytorch_model.bin, or into shards split by
    huggingface_hub's rule and listed in pytorch_model.bin.index.json."""
    model.config.dtype = str(model.dtype).removeprefix("torch.")
    model.config.architectures = [type(model).__name__]
    model.config.save_pretrained(d)
    state = model.state_dict()
    split = split_torch_state_dict_into_shards(state, filename_pattern="pytorch_model{suffix}.bin",
                                               max_shard_size=max_shard_size)
    for file, names in split.filename_to_tensors.items():
        torch.save({n: state[n] for n in names}, os.path.join(d, file))
    if split.is_sharded:
        index = {"metadata": split.metadata, "weight_map": split.tensor_to_filename}
        with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
            f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")


def make(arch, d):
    model = build(arch)
    model.save_pretrained(os.path.join(d, "st"))
    model.save_pretrained(os.path.join(d, "sharded"), max_shard_size="40KB")
    save_bin(model, os.path.join(d, "bin"))
    save_bin(model, os.path.join(d, "binsharded"), max_shard_size="40KB")
    for name, dt in [("16", torch.float16), ("bf16", torch.bfloat16)]:
        m = copy.deepcopy(model).to(dt)
        m.save_pretrained(os.path.join(d, "fp16" if name == "16" else "bf16"))
        save_bin(m, os.path.join(d, "bin" + name))
    base = model.transformer if arch == "gpt2" else model.roberta
    base.save_pretrained(os.path.join(d, "base"))
    ids, mask, labels = batch(arch)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    save_file({"ids": ids, "mask": mask, "labels": labels, "logits": logits.contiguous()},
              os.path.join(d, "ref.safetensors"))


def short(name):
    """PEFT parameter name -> the name Go uses (no base_model.model., .default, modules_to_save.)."""
    return name.removeprefix("base_model.model.").replace(".default", "").replace("modules_to_save.", "")


def train(arch, d):
    job = json.load(open(os.path.join(d, "job.json")))
    init = load_file(os.path.join(d, "init.safetensors"))
    ref = load_file(os.path.join(d, "ref.safetensors"))
    load = dict(attn_implementation="eager", dtype=torch.float32)
    if arch == "gpt2":
        model = GPT2ForSequenceClassification.from_pretrained(os.path.join(d, "st"), resid_pdrop=0.0, embd_pdrop=0.0,
                                                              attn_pdrop=0.0, **load)
    else:
        model = RobertaForSequenceClassification.from_pretrained(os.path.join(d, "st"), hidden_dropout_prob=0.0,
                                                                 attention_probs_dropout_prob=0.0, **load)
    lc = LoraConfig(r=job["r"], lora_alpha=job["alpha"], lora_dropout=0.0, target_modules=job["targets"],
                    modules_to_save=job["head"], fan_in_fan_out=(arch == "gpt2"))
    pm = get_peft_model(model, lc)
    pm.train()
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if p.requires_grad:
                p.copy_(init[short(name)])
    groups = official_groups(pm, job)
    lr, ratio, wd = job["lr"], job["ratio"], job["weight_decay"]
    settings = {"A": (lr, wd), "embedding": (job["lr_embedding"], wd), "B": (lr * ratio, wd),
                "B_no_decay": (lr * ratio, 0.0)}
    param_groups = [{"params": [p for _, p in groups[g]], "lr": settings[g][0], "weight_decay": settings[g][1]}
                    for g in ["A", "embedding", "B", "B_no_decay"] if groups[g]]
    opt = torch.optim.AdamW(param_groups, lr=lr, betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
    opt.zero_grad()
    logits = pm(input_ids=ref["ids"], attention_mask=ref["mask"]).logits
    loss = F.cross_entropy(logits, ref["labels"])
    loss.backward()
    out = {}
    for name, p in pm.named_parameters():
        if p.requires_grad:
            out["grad." + short(name)] = p.grad.detach().clone()
    opt.step()
    for name, p in pm.named_parameters():
        if p.requires_grad:
            out[short(name)] = p.detach().clone()
    out["loss"] = loss.detach().reshape(1)
    meta = {"groups": json.dumps({g: [short(n) for n, _ in v] for g, v in groups.items()})}
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "out.safetensors"), metadata=meta)


def main():
    mode, arch, d = sys.argv[1], sys.argv[2], sys.argv[3]
    if arch not in ("gpt2", "roberta"):
        raise SystemExit(f"unknown architecture {arch}")
    if mode == "make":
        make(arch, d)
    elif mode == "train":
        train(arch, d)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
