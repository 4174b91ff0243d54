"""Reference LoRA / LoRA+ computations with torch + PEFT for the Go parity tests.

usage: lora_ref.py MODE DIR
  DIR/job.json          sizes and settings
  DIR/weights.safetensors  base, adapter and extra tensors under PEFT names without "base_model.model."
  DIR/data.safetensors  ids [N, T] (int64) and target [N, T, out]
modes:
  forward    DIR/out.safetensors: y
  train      DIR/out.safetensors: the same AdamW steps under two LoRA+ optimizers, from the same start:
               the official LoRA+ grouping (lora_plus.py) built here: every trainable tensor after the steps,
                 loss [steps]; metadata "groups" (JSON: group -> tensor names)
               PEFT's peft.optimizers.create_loraplus_optimizer: the same under the prefix "peft/"
                 ("peft/<tensor>", "peft/loss"); metadata "peft/groups"
  peft_save  DIR/adapter/: PEFT save_pretrained of the model (modules_to_save from job.extras_modules), and y
  peft_load  DIR/out.safetensors: y of the base model with PeftModel.from_pretrained(DIR/adapter)
The toy model (ToyNet) mirrors the Go test model field by field.
"""
import json
import os
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.optimizers import create_loraplus_optimizer
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


def peft_model(job, weights, config=None):
    """The toy model with a PEFT adapter (config, lora_config(job) by default) holding the given weights."""
    pm = get_peft_model(base_model(job, weights), config or lora_config(job))
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


GROUPS = ["A", "embedding", "B", "B_no_decay"]  # the order of both the official code and PEFT


def official_optimizer(pm, job):
    """torch AdamW over official_groups, with each group's learning rate and weight decay from the job."""
    lr, ratio, wd = job["lr"], job["ratio"], job["weight_decay"]
    groups = official_groups(pm, job)
    settings = {"A": (lr, wd), "embedding": (job["lr_embedding"], wd), "B": (lr * ratio, wd), "B_no_decay": (lr * ratio, 0.0)}
    param_groups = [{"params": [p for _, p in groups[g]], "lr": settings[g][0], "weight_decay": settings[g][1]}
                    for g in GROUPS if groups[g]]
    opt = torch.optim.AdamW(param_groups, lr=lr, betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
    return opt, {g: [short(n) for n, _ in v] for g, v in groups.items()}


def peft_optimizer(pm, job):
    """PEFT's create_loraplus_optimizer with the job's settings, and the tensor names of its four groups.

    PEFT takes the weight decay of the groups from loraplus_weight_decay (a weight_decay keyword would be overridden
    by the groups), and always builds its four groups, empty ones included, in the order of GROUPS. Since PEFT 0.21
    the LoRA factors of an embedding go to the embedding group, as in the official code (before, that group stayed
    empty and they trained in group A). The rules still differ for a trainable tensor of the base layer inside a
    LoRA embedding (emb.base_layer.weight: PEFT's embedding group, the official group A), which ToyNet does not
    train."""
    opt = create_loraplus_optimizer(pm, torch.optim.AdamW, lr=job["lr"], loraplus_lr_ratio=job["ratio"],
                                    loraplus_lr_embedding=job["lr_embedding"],
                                    loraplus_weight_decay=job["weight_decay"],
                                    betas=(job["beta1"], job["beta2"]), eps=job["eps"], foreach=False)
    assert len(opt.param_groups) == len(GROUPS), len(opt.param_groups)
    names = {id(p): short(n) for n, p in pm.named_parameters()}
    return opt, {g: [names[id(p)] for p in pg["params"]] for g, pg in zip(GROUPS, opt.param_groups)}


def train(pm, opt, job, ids, target):
    """job["steps"] steps of opt on the mean squared error, with the job's schedule factors and gradient clipping.
    Returns every trainable tensor after the steps (short names) and the loss of each step."""
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
    out = {short(name): p.detach().clone() for name, p in pm.named_parameters() if p.requires_grad}
    out["loss"] = torch.tensor(losses, dtype=torch.float64)
    return out


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
        for prefix, make_optimizer in [("", official_optimizer), ("peft/", peft_optimizer)]:
            pm = peft_model(job, weights)
            opt, groups = make_optimizer(pm, job)
            out.update({prefix + k: v for k, v in train(pm, opt, job, ids, target).items()})
            meta[prefix + "groups"] = json.dumps(groups)
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
