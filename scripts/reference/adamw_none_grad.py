"""torch.optim.AdamW when a tensor stops receiving gradients, for loraplus's ZeroGrad test.

usage: adamw_none_grad.py   (writes JSON to stdout)
a and b start at [1, 2, 3] and [0.5, -1, 2]; AdamW(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1).
Step 1 trains on sum(a·b) (both get gradients); steps 2 and 3 on sum(a²) only, after optimizer.zero_grad() (which
sets gradients to None): b has no gradient there, so AdamW skips it. Writes a and b after every step.
"""
import json

import torch

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
opt = torch.optim.AdamW([a, b], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1, foreach=False)
out = []
for step in range(3):
    opt.zero_grad()
    loss = (a * b).sum() if step == 0 else (a * a).sum()
    loss.backward()
    opt.step()
    out.append({"a": a.tolist(), "b": b.tolist(), "b_grad_is_none": b.grad is None})
print(json.dumps(out))
