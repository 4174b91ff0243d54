"""The PyTorch + PEFT side of the device check (cmd/bench -check): a few LoRA+ AdamW steps on one model, on a
chosen device and base dtype, from a starting point both stacks share.

usage: device_step.py make KIND DIR [--gguf FILE]
  KIND is gpt2 or roberta (tiny random sequence classifiers of hf_tiny.py, 3 labels, a padded batch), llama (a
  tiny random LlamaForCausalLM: vocab 128, hidden 64, 2 layers, 4 heads, 2 kv heads) or smollm2 (the GGUF file's
  weights; causal-LM loss). Writes DIR/model/ (save_pretrained, fp32; not for smollm2), DIR/batch.safetensors
  (ids, mask and, for classifiers, labels), DIR/init.safetensors (every LoRA factor under its PEFT name, A and B
  both random so that both get gradients) and DIR/job.json (kind, targets, r, alpha, lr, ratio, steps).
usage: device_step.py step DIR --device cpu|cuda --dtype float32|bfloat16 --out FILE
  Loads the model in --dtype on --device (adapters stay fp32: PEFT's autocast_adapter_dtype), the factors of
  DIR/init.safetensors, and runs job["steps"] steps of PEFT's create_loraplus_optimizer (AdamW, lr_B = ratio ·
  lr) with dropout 0 and attention through scaled_dot_product_attention. Writes FILE: "loss.K" (step K's loss,
  fp32 [1]), "grad.NAME" (the gradient of factor NAME at step 1) and "NAME" (the factor after the last step),
  NAME being the PEFT name of init.safetensors.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

JOB = {"r": 4, "alpha": 8, "lr": 1e-3, "ratio": 16.0, "steps": 3}
TARGETS = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "roberta": ["query", "value"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}
TARGETS["smollm2"] = TARGETS["llama"]


def tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5,
                      rope_theta=10000.0, initializer_range=0.1, tie_word_embeddings=False)
    return LlamaForCausalLM(cfg)


def base_model(kind, d, gguf, dtype, attn):
    """The base model of KIND as save_pretrained wrote it in d/model (or the GGUF file), in dtype."""
    if kind == "smollm2":
        from llama_smollm2 import load_gguf

        model = load_gguf(gguf)[0]
        model.config._attn_implementation = attn
        return model.to(dtype)
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    extra = {}
    if kind == "gpt2":
        extra = dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    elif kind == "roberta":
        extra = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    auto = AutoModelForCausalLM if kind == "llama" else AutoModelForSequenceClassification
    return auto.from_pretrained(os.path.join(d, "model"), dtype=dtype, attn_implementation=attn, **extra)


def wrap(model, kind, job):
    import warnings

    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=job["r"], lora_alpha=job["alpha"], lora_dropout=0.0, target_modules=job["targets"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fan_in_fan_out is switched on for GPT-2's Conv1D
        return get_peft_model(model, cfg)


def peft_name(name):
    """A PEFT parameter name without the adapter name, as adapter_model.safetensors stores it."""
    return name.replace(".default", "")


def make(kind, d, gguf):
    import hf_tiny

    os.makedirs(d, exist_ok=True)
    job = dict(JOB, kind=kind, targets=TARGETS[kind], gguf=gguf)
    if kind in ("gpt2", "roberta"):
        model = hf_tiny.build(kind)
        model.save_pretrained(os.path.join(d, "model"))
        ids, mask, labels = hf_tiny.batch(kind)
        batch = {"ids": ids, "mask": mask, "labels": labels}
    else:
        if kind == "llama":
            model = tiny_llama()
            model.save_pretrained(os.path.join(d, "model"))
        else:
            model = base_model(kind, d, gguf, torch.float32, "sdpa")
        g = torch.Generator().manual_seed(1)
        ids = torch.randint(0, model.config.vocab_size, (2, 16), generator=g)
        batch = {"ids": ids, "mask": torch.ones_like(ids)}
    save_file(batch, os.path.join(d, "batch.safetensors"))
    peft = wrap(model, kind, job)
    g = torch.Generator().manual_seed(2)
    init = {}
    for name, p in peft.named_parameters():
        if "lora_" in name:
            init[peft_name(name)] = (torch.randn(p.shape, generator=g) * 0.05).contiguous()
    save_file(init, os.path.join(d, "init.safetensors"))
    with open(os.path.join(d, "job.json"), "w") as f:
        json.dump(job, f, indent=2)


def step(d, device, dtype_name, out):
    from peft.optimizers import create_loraplus_optimizer

    job = json.load(open(os.path.join(d, "job.json")))
    kind = job["kind"]
    dtype = getattr(torch, dtype_name)
    model = wrap(base_model(kind, d, job.get("gguf"), dtype, "sdpa"), kind, job).to(device)
    init = load_file(os.path.join(d, "init.safetensors"))
    params = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                params[peft_name(name)] = p
                p.copy_(init[peft_name(name)])
    if set(params) != set(init):
        raise SystemExit(f"device_step: trainable tensors {sorted(set(params) ^ set(init))} differ from init")
    model.train()
    opt = create_loraplus_optimizer(model=model, optimizer_cls=torch.optim.AdamW, lr=job["lr"],
                                    loraplus_lr_ratio=job["ratio"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    batch = {k: v.to(device) for k, v in load_file(os.path.join(d, "batch.safetensors")).items()}
    res = {}
    for k in range(1, job["steps"] + 1):
        opt.zero_grad()
        if kind in ("gpt2", "roberta"):
            logits = model(input_ids=batch["ids"], attention_mask=batch["mask"]).logits.float()
            loss = torch.nn.functional.cross_entropy(logits, batch["labels"])
        else:
            logits = model(input_ids=batch["ids"]).logits.float()
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                     batch["ids"][:, 1:].reshape(-1))
        loss.backward()
        res[f"loss.{k}"] = loss.detach().float().reshape(1).cpu()
        if k == 1:
            for name, p in params.items():
                res["grad." + name] = p.grad.detach().float().cpu().contiguous()
        opt.step()
    for name, p in params.items():
        res[name] = p.detach().float().cpu().contiguous()
    save_file(res, out, metadata={"device": str(device), "dtype": dtype_name, "torch": torch.__version__})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["make", "step"])
    p.add_argument("arg1")
    p.add_argument("arg2", nargs="?")
    p.add_argument("--gguf", default="")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--out", default="")
    a = p.parse_args()
    torch.manual_seed(0)
    if a.mode == "make":
        if a.arg1 not in TARGETS:
            raise SystemExit(f"device_step: unknown kind {a.arg1!r} (want {', '.join(TARGETS)})")
        if a.arg1 == "smollm2" and not a.gguf:
            raise SystemExit("device_step: smollm2 needs --gguf FILE")
        make(a.arg1, a.arg2, a.gguf)
    else:
        step(a.arg1, a.device, a.dtype, a.out)


if __name__ == "__main__":
    main()
