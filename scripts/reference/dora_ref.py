"""Reference DoRA (PEFT's LoraConfig(use_dora=True)) computations for the Go parity tests.

usage: dora_ref.py MODE DIR
  DIR/job.json, DIR/weights.safetensors, DIR/data.safetensors as for lora_ref.py (ToyNet, the same names), plus in
  job.json: "dropout" (lora_dropout, default 0), "seed" (torch.manual_seed before the dropout forward pass); the
  adapter tensors include "<module>.lora_magnitude_vector", the key PEFT saves.
modes:
  forward    DIR/out.safetensors: y_eval (eval mode), y_train (train mode; with job.dropout > 0, right after
             torch.manual_seed(job.seed), so the dropout masks are PEFT's)
  init       DIR/out.safetensors: "<module>.lora_magnitude_vector" as get_peft_model initialises it on the base weights
  grads      DIR/out.safetensors: loss (train mode, mean squared error against target) and "grad/<tensor>" for every
             trainable tensor (lora_A, lora_B, lora_magnitude_vector, job.extras)
  train      DIR/out.safetensors: after job.steps AdamW steps, as lora_ref.py's train mode: the official LoRA+ grouping
             (the magnitude is 1-D, so group B; with job.lr_magnitude > 0 it moves to a group "dora_magnitude" of that
             rate and the A group's weight decay) and, under the prefix "peft/", PEFT's create_loraplus_optimizer
  merge      DIR/out.safetensors: "<module>.weight" of every target after PEFT's merge_and_unload
  peft_save  DIR/adapter/: PEFT save_pretrained of the DoRA model; DIR/out.safetensors: y (eval mode)
  peft_load  DIR/out.safetensors: y (eval mode) of the base model with PeftModel.from_pretrained(DIR/adapter)
"""
import json
import os
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file

import lora_ref
from lora_ref import GROUPS, base_model, official_groups, peft_optimizer, train

torch.set_num_threads(1)


def short(name):
    """PEFT parameter name -> the adapter file's key without "base_model.model." (the magnitude has no ".weight")."""
    name = name.removeprefix("base_model.model.").replace(".default", "")
    return name.replace("lora_magnitude_vector.weight", "lora_magnitude_vector")


lora_ref.short = short  # lora_ref's optimizers and train() name tensors through it


def dora_config(job):
    return LoraConfig(r=job["r"], lora_alpha=job["alpha"], lora_dropout=job.get("dropout", 0.0),
                      target_modules=job["targets"], use_rslora=job.get("rslora", False), use_dora=True)


def peft_model(job, weights):
    return lora_ref.peft_model(job, weights, dora_config(job))


def official_optimizer(pm, job):
    """torch AdamW over the official LoRA+ groups; job.lr_magnitude > 0 moves the magnitudes to their own group."""
    lr, ratio, wd = job["lr"], job["ratio"], job["weight_decay"]
    groups = official_groups(pm, job)
    settings = {"A": (lr, wd), "embedding": (job["lr_embedding"], wd), "B": (lr * ratio, wd),
                "B_no_decay": (lr * ratio, 0.0)}
    order = list(GROUPS)
    if job.get("lr_magnitude", 0) > 0:
        groups["dora_magnitude"] = [(n, p) for n, p in groups["B"] if "lora_magnitude_vector" in n]
        groups["B"] = [(n, p) for n, p in groups["B"] if "lora_magnitude_vector" not in n]
        settings["dora_magnitude"] = (job["lr_magnitude"], wd)
        order.append("dora_magnitude")
    param_groups = [{"params": [p for _, p in groups[g]], "lr": settings[g][0], "weight_decay": settings[g][1]}
                    for g in order if groups[g]]
    opt = torch.optim.AdamW(param_groups, lr=lr, betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
    return opt, {g: [short(n) for n, _ in v] for g, v in groups.items()}


def main():
    mode, d = sys.argv[1], sys.argv[2]
    job = json.load(open(os.path.join(d, "job.json")))
    weights = load_file(os.path.join(d, "weights.safetensors"))
    data = load_file(os.path.join(d, "data.safetensors"))
    ids, target = data["ids"], data["target"]
    out, meta = {}, {}
    if mode == "forward":
        pm = peft_model(job, weights)
        pm.eval()
        with torch.no_grad():
            out["y_eval"] = pm(ids)
        pm.train()
        torch.manual_seed(job.get("seed", 0))
        with torch.no_grad():
            out["y_train"] = pm(ids)
    elif mode == "init":
        pm = get_peft_model(base_model(job, weights), dora_config(job))
        for name, p in pm.named_parameters():
            if "lora_magnitude_vector" in name:
                out[short(name)] = p.detach()
    elif mode == "grads":
        pm = peft_model(job, weights)
        pm.train()
        loss = ((pm(ids) - target) ** 2).mean()
        loss.backward()
        out["loss"] = loss.detach().double().reshape(1)
        for name, p in pm.named_parameters():
            if p.requires_grad:
                out["grad/" + short(name)] = p.grad
    elif mode == "train":
        if job.get("dropout", 0) != 0:
            raise SystemExit("train mode needs dropout 0")
        for prefix, make_optimizer in [("", official_optimizer), ("peft/", peft_optimizer)]:
            if prefix and job.get("lr_magnitude", 0) > 0:
                continue  # PEFT has no separate rate for the magnitude
            pm = peft_model(job, weights)
            pm.train()
            opt, groups = make_optimizer(pm, job)
            out.update({prefix + k: v for k, v in train(pm, opt, job, ids, target).items()})
            meta[prefix + "groups"] = json.dumps(groups)
    elif mode == "merge":
        merged = peft_model(job, weights).merge_and_unload()
        for name, p in merged.named_parameters():
            if name.removesuffix(".weight") in job["targets"]:
                out[name] = p.detach()
    elif mode == "peft_save":
        pm = peft_model(job, weights)
        pm.eval()
        with torch.no_grad():
            out["y"] = pm(ids)
        pm.save_pretrained(os.path.join(d, "adapter"))
    elif mode == "peft_load":
        pm = PeftModel.from_pretrained(base_model(job, weights), os.path.join(d, "adapter"))
        pm.eval()
        with torch.no_grad():
            out["y"] = pm(ids)
    else:
        raise SystemExit(f"unknown mode {mode}")
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "out.safetensors"), metadata=meta)


if __name__ == "__main__":
    main()
