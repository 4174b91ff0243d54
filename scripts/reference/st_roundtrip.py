"""Safetensors interchange with the Python safetensors library, for the Go tests of package nn.

usage: st_roundtrip.py IN OUT
  IN   read with safetensors.torch.load_file (and safe_open for the metadata)
  OUT  written with safetensors.torch.save_file: a fixed set of tensors (every dtype nn writes, a 0-d scalar,
       an empty tensor, special float values) with metadata
prints {"loaded": FILE, "saved": FILE} with
  FILE = {"metadata": {...} or null, "tensors": {name: {"dtype", "shape", "hex", "values"}}}
where dtype is the safetensors dtype name, hex the little-endian raw data, and values the elements in row-major
order as Python float/int reprs ("nan", "inf", "-inf" included).
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def describe(t):
    flat = t.reshape(-1).contiguous()
    raw = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    if t.is_floating_point():
        values = [repr(float(v)) for v in flat.double().tolist()]
    else:
        values = [repr(int(v)) for v in flat.tolist()]
    return {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "hex": raw.hex(), "values": values}


def reference_tensors():
    special = [0.0, -0.0, 1.0, -2.5, 0.333251953125, 65504.0, float("inf"), float("-inf"), float("nan"), 1e-7]
    return {
        "f32": torch.tensor([[1.5, -2.25, 3.0], [1e-30, 3.4e38, -0.0]], dtype=torch.float32),
        "f64": torch.tensor([0.1, -1e300, 2.0 ** -1074], dtype=torch.float64),
        "f16": torch.tensor(special, dtype=torch.float32).to(torch.float16).reshape(2, 5),
        "bf16": torch.tensor(special, dtype=torch.float32).to(torch.bfloat16).reshape(5, 2),
        "i64": torch.tensor([[-(2 ** 63), 2 ** 63 - 1], [0, -7]], dtype=torch.int64),
        "i32": torch.tensor([-(2 ** 31), 2 ** 31 - 1, 42], dtype=torch.int32),
        "scalar": torch.tensor(-3.75, dtype=torch.float32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
        "model.layers.0.weight": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7,
    }


METADATA = {"format": "pt", "note": "héllo \"quoted\" {json}", "empty": ""}


def describe_file(tensors, metadata):
    return {"metadata": metadata, "tensors": {k: describe(v) for k, v in sorted(tensors.items())}}


def main():
    src, dst = sys.argv[1], sys.argv[2]
    loaded = load_file(src)
    with safe_open(src, framework="pt") as f:
        loaded_metadata = f.metadata()
    saved = reference_tensors()
    save_file(saved, dst, metadata=METADATA)
    json.dump({"loaded": describe_file(loaded, loaded_metadata), "saved": describe_file(saved, METADATA)}, sys.stdout)


if __name__ == "__main__":
    main()
