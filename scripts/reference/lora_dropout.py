"""PEFT's LoRA dropout in training mode, for the Go test that pins where dropout sits in the adapter.

usage: lora_dropout.py OUT.safetensors SEED
A Linear(7, 6) with a PEFT adapter (r = 3, alpha = 6, lora_dropout = 0.5, both factors random) runs a training
forward pass on x [5, 7] right after torch.manual_seed(SEED). PEFT computes y = W x + b + s·B(A(dropout(x))): the
dropout mask is drawn on the adapter's input, of x's shape. Writes x, the base and adapter tensors, y in training
mode and y in evaluation mode.
"""
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file

torch.set_num_threads(1)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(7, 6)

    def forward(self, x):
        return self.proj(x)


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    g = torch.Generator().manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.proj.weight.copy_(torch.randn(6, 7, generator=g))
        net.proj.bias.copy_(torch.randn(6, generator=g))
    model = get_peft_model(net, LoraConfig(r=3, lora_alpha=6, lora_dropout=0.5, target_modules=["proj"]))
    lin = model.base_model.model.proj
    with torch.no_grad():
        lin.lora_A["default"].weight.copy_(torch.randn(3, 7, generator=g))
        lin.lora_B["default"].weight.copy_(torch.randn(6, 3, generator=g))
    x = torch.randn(5, 7, generator=g)
    model.train()
    torch.manual_seed(seed)
    with torch.no_grad():
        y_train = model(x)
    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    save_file({"x": x, "proj.weight": net.proj.weight.detach().clone(), "proj.bias": net.proj.bias.detach().clone(),
               "proj.lora_A.weight": lin.lora_A["default"].weight.detach().clone(),
               "proj.lora_B.weight": lin.lora_B["default"].weight.detach().clone(),
               "y_train": y_train, "y_eval": y_eval}, out)


if __name__ == "__main__":
    main()
