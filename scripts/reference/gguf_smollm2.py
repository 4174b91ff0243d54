"""Reference values from a real GGUF model (SmolLM2-135M-Instruct Q4_1) for
nn/weights/gguf tests, computed with gguf-py.

Usage: gguf_smollm2.py FILE.gguf OUTDIR

Writes OUTDIR/meta.json (gguf_dump.py's reading of the file) and
OUTDIR/smollm2.json with:
  "tensors":   selected tensors with their gguf-py dequantization in
               ref/<name>.f32 (all rows, or the listed "rows" for the large
               embedding), and for q/k projections the Hugging Face layout in
               hf/<name>.f32 obtained with the inverse of llama.cpp's rotary
               permutation (the formula of transformers'
               reverse_permute_weights);
  "checksums": for every tensor, [sum(x), sum(x * (i % 251 + 1))] in float64
               over its dequantized values in row-major order.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_dump  # noqa: E402


def reverse_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    dim = w.shape[0] // n_head // 2
    return w.reshape(n_head, dim, 2, *w.shape[1:]).swapaxes(2, 1).reshape(w.shape)


def dequant(t) -> np.ndarray:
    shape = tuple(int(d) for d in reversed(t.shape))
    if t.tensor_type == T.F32:
        return np.asarray(t.data, dtype=np.float32).reshape(shape)
    return dequantize(np.asarray(t.data), t.tensor_type).reshape(shape)


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: gguf_smollm2.py FILE.gguf OUTDIR")
    path, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "ref"), exist_ok=True)
    os.makedirs(os.path.join(out, "hf"), exist_ok=True)
    r = GGUFReader(path)
    meta = gguf_dump.dump(path, r)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)
    kv = {e["key"]: e["value"] for e in meta["kvs"]}
    n_head, n_kv = kv["llama.attention.head_count"], kv["llama.attention.head_count_kv"]

    selected = {
        "token_embd.weight": [0, 1, 2, 3, 1000, 12345, 49150, 49151],
        "blk.0.attn_q.weight": None,
        "blk.0.attn_k.weight": None,
        "blk.0.attn_v.weight": None,
        "blk.0.ffn_down.weight": None,
        "blk.29.ffn_up.weight": None,
        "blk.29.attn_q.weight": None,
        "blk.0.attn_norm.weight": None,
        "output_norm.weight": None,
    }
    tensors, checksums = [], {}
    weights = np.zeros(0)
    for t in r.tensors:
        x = dequant(t)
        flat = x.reshape(-1).astype(np.float64)
        if weights.size < flat.size:
            weights = (np.arange(flat.size) % 251 + 1).astype(np.float64)
        checksums[t.name] = [float(flat.sum()), float(flat @ weights[:flat.size])]
        if t.name not in selected:
            continue
        rows = selected[t.name]
        entry = {"name": t.name, "type": int(t.tensor_type), "shape": list(x.shape), "rows": rows,
                 "ref": "ref/" + t.name + ".f32"}
        (x[rows] if rows is not None else x).astype("<f4").tofile(os.path.join(out, entry["ref"]))
        heads = n_head if ".attn_q." in t.name else n_kv if ".attn_k." in t.name else 0
        if heads:
            entry["permute_heads"] = heads
            entry["hf_ref"] = "hf/" + t.name + ".f32"
            reverse_permute(x, heads).astype("<f4").tofile(os.path.join(out, entry["hf_ref"]))
        tensors.append(entry)
    with open(os.path.join(out, "smollm2.json"), "w") as f:
        json.dump({"tensors": tensors, "checksums": checksums}, f)


if __name__ == "__main__":
    with np.errstate(all="ignore"):
        main()
