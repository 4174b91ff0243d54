"""Reference LoRA / LoRA+ computations with torch 2.1 + PEFT for the Go parity tests.

usage: lora_ref.py MODE DIR
  DIR/job.json          sizes and settings
  DIR/weights.safetensors  base, adapter and extra tensors under PEFT names without "base_model.model."
  DIR/data.safetensors  ids [N, T] (int64) and target [N, T, out]
modes:
  forward    DIR/out.safetensors: y
  train      DIR/out.safetensors: every trainable tensor after the steps, loss [steps]; metadata "groups" (JSON)
  peft_save  DIR/adapter/: PEFT save_pretrained of the model (modules_to_save from job.extras_modules), and y
  peft_load  DIR/out.safetensors: y of the base model with PeftModel.from_pretrained(DIR/adapter)
The toy model (ToyNet) mirrors the Go test model field by field.
"""
import json
import os
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.lora import Embedding as LoraEmbedding
from safetensors.torch import load_file, save_file
from transformers.pytorch_utils import ALL_LAYERNORM_LAYERS, Conv1D
from transformers.trainer_pt_utils import get_parameter_names

torch.set_num_threads(1)


class ToyNet(torch.nn.Module):
    def __init__(self, vocab, dim, hidden, out):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.fc1 = torch.nn.Linear(dim, hidden)
        self.ln = torch.nn.LayerNorm(hidden)
        self.gate = torch.nn.Parameter(torch.ones(hidden))
        self.fc2 = Conv1D(hidden, hidden)
        self.head = torch.nn.Linear(hidden, out)

    def forward(self, ids):
        x = torch.relu(self.fc1(self.emb(ids)))
        x = self.ln(x) * self.gate
        return self.head(self.fc2(x))


def base_model(job, weights):
    m = ToyNet(job["vocab"], job["dim"], job["hidden"], job["out"])
    base = {k: v for k, v in weights.items() if "lora_" not in k}
    missing, unexpected = m.load_state_dict(base, strict=True)
    assert not missing and not unexpected
    return m


def lora_config(job, **kw):
    return LoraConfig(r=job["r"], lora_alpha=job["alpha"], lora_dropout=0.0, target_modules=job["targets"],
                      use_rslora=job.get("rslora", False), **kw)


def short(name):
    """PEFT parameter name -> the name the adapter file uses without its prefix."""
    return name.removeprefix("base_model.model.").replace(".default", "")


def peft_model(job, weights):
    pm = get_peft_model(base_model(job, weights), lora_config(job))
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_" in name:
                p.copy_(weights[short(name)])
    for name, p in pm.named_parameters():
        if short(name) in job.get("extras", []):
            p.requires_grad_(True)
    return pm


def official_groups(model, job):
    """The parameter groups of the official LoRA+ code (lora_plus.py, create_loraplus_optimizer)."""
    decay = [n for n in get_parameter_names(model, ALL_LAYERNORM_LAYERS) if "bias" not in n]
    groups = {"A": [], "embedding": [], "B": [], "B_no_decay": []}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        parts = name.split(".")
        module = model
        for attr in parts[: -(2 if "lora" in name else 1)]:
            module = getattr(module, attr)
        if isinstance(module, LoraEmbedding):
            groups["embedding"].append((name, p))
        elif "lora_B" in name or p.ndim == 1:
            groups["B" if name in decay else "B_no_decay"].append((name, p))
        else:
            groups["A"].append((name, p))
    return groups


def main():
    mode, d = sys.argv[1], sys.argv[2]
    job = json.load(open(os.path.join(d, "job.json")))
    weights = load_file(os.path.join(d, "weights.safetensors"))
    data = load_file(os.path.join(d, "data.safetensors"))
    ids, target = data["ids"], data["target"]
    out = {}
    meta = {}
    if mode == "forward":
        pm = peft_model(job, weights)
        with torch.no_grad():
            out["y"] = pm(ids)
    elif mode == "train":
        pm = peft_model(job, weights)
        lr, ratio, wd = job["lr"], job["ratio"], job["weight_decay"]
        groups = official_groups(pm, job)
        settings = {"A": (lr, wd), "embedding": (job["lr_embedding"], wd), "B": (lr * ratio, wd), "B_no_decay": (lr * ratio, 0.0)}
        param_groups = [{"params": [p for _, p in groups[g]], "lr": settings[g][0], "weight_decay": settings[g][1]}
                        for g in ["A", "embedding", "B", "B_no_decay"] if groups[g]]
        opt = torch.optim.AdamW(param_groups, lr=lr, betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
        factors = job["factors"]
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: factors[step] if step < len(factors) else 0.0)
        trainable = [p for p in pm.parameters() if p.requires_grad]
        losses = []
        for _ in range(job["steps"]):
            opt.zero_grad()
            loss = ((pm(ids) - target) ** 2).mean()
            loss.backward()
            if job.get("clip", 0) > 0:
                torch.nn.utils.clip_grad_norm_(trainable, job["clip"])
            opt.step()
            sched.step()
            losses.append(loss.item())
        for name, p in pm.named_parameters():
            if p.requires_grad:
                out[short(name)] = p.detach().clone()
        out["loss"] = torch.tensor(losses, dtype=torch.float64)
        meta["groups"] = json.dumps({g: [short(n) for n, _ in v] for g, v in groups.items()})
    elif mode == "peft_save":
        extras = job.get("extras_modules") or None
        pm = get_peft_model(base_model(job, weights), lora_config(job, modules_to_save=extras))
        with torch.no_grad():
            for name, p in pm.named_parameters():
                if "lora_" in name:
                    p.copy_(weights[short(name)])
                elif extras and "modules_to_save" in name:
                    p.copy_(weights[short(name).replace("modules_to_save.", "")] * 1.5)
            out["y"] = pm(ids)
        pm.save_pretrained(os.path.join(d, "adapter"))
    elif mode == "peft_load":
        pm = PeftModel.from_pretrained(base_model(job, weights), os.path.join(d, "adapter"))
        with torch.no_grad():
            out["y"] = pm(ids)
    else:
        raise SystemExit(f"unknown mode {mode}")
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "out.safetensors"), metadata=meta)


if __name__ == "__main__":
    main()
