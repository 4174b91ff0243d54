"""The learning rates Hugging Face's Trainer applies at each optimizer step, for the schedule test of
loraplus/train.

usage: hf_trainer_lr.py JOB.json OUT.json
JOB: {"lr": float, "ratio": float, "cases": [{"name", "schedule": "linear"|"cosine"|"constant", "warmup", "steps"}]}
A tiny model with two parameter groups (lr and lr·ratio, LoRA+'s A and B groups) trains for "steps" optimizer
steps under Trainer with lr_scheduler_type and warmup_steps set, the scheduler built by the Trainer itself
(create_scheduler); "constant" is Trainer's "constant_with_warmup" (the project's constant schedule warms up).
A pre-hook on the optimizer's step records every group's lr as the step uses it.
OUT: {name: [[lr_A, lr_B], ...] one pair per step}.
"""
import json
import sys
import tempfile

import torch
from transformers import Trainer, TrainingArguments

torch.set_num_threads(1)


class Data(torch.utils.data.Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        return {"x": torch.full((4,), float(i % 7) / 7)}


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.ones(4))
        self.b = torch.nn.Parameter(torch.ones(4))

    def forward(self, x):
        return {"loss": ((x * self.a * self.b).sum(-1) - 1).pow(2).mean()}


def run(lr, ratio, case):
    net = Net()
    opt = torch.optim.AdamW([{"params": [net.a], "lr": lr}, {"params": [net.b], "lr": lr * ratio}], lr=lr)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append([g["lr"] for g in o.param_groups]))
    kind = {"constant": "constant_with_warmup"}.get(case["schedule"], case["schedule"])
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=case["steps"], learning_rate=lr, lr_scheduler_type=kind,
                                 warmup_steps=case["warmup"], per_device_train_batch_size=4, report_to=[],
                                 save_strategy="no", logging_strategy="no", use_cpu=True, max_grad_norm=0,
                                 disable_tqdm=True, dataloader_num_workers=0)
        Trainer(model=net, args=args, train_dataset=Data(), optimizers=(opt, None)).train()
    return seen


def main():
    job = json.load(open(sys.argv[1]))
    out = {c["name"]: run(job["lr"], job["ratio"], c) for c in job["cases"]}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
