"""Checks the files that cmd/export writes with the tools that read them.

usage:
  export_check.py hf DIR IDS OUT.safetensors
      loads DIR with transformers' LlamaForCausalLM.from_pretrained (fp32, eager attention) and writes the logits
      [1, T, V] of the comma-separated token ids IDS.
  export_check.py gguf FILE HFDIR IDS OUT.safetensors
      reads FILE with gguf-py's GGUFReader and converts the fp32 safetensors of HFDIR (a Hugging Face export of
      the same weights, sharded or not) as llama.cpp's convert_hf_to_gguf.py does for FILE's general.file_type
      (1 = F16, 7 = Q8_0): llama.cpp names, LlamaModel.permute on q_proj/k_proj rows, 1-D tensors F32, matrices F16,
      or Q8_0 via gguf.quants.quantize when their rows are whole blocks (else F16). Prints JSON: per tensor its
      type, whether its bytes equal the conversion's, and the largest |dequantized - fp32| difference; the scalar
      metadata; the tensor data offsets' alignment; the lengths of array metadata. Then builds transformers' model
      from FILE with llama_smollm2.load_gguf and writes the logits [1, T, V] of IDS.
"""
import glob
import json
import os
import sys

import numpy as np
import torch
from gguf import GGUFReader, GGMLQuantizationType as Q
from gguf.quants import dequantize, quantize
from safetensors.numpy import load_file
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_smollm2 import GLOBAL, LAYER, field, load_gguf  # noqa: E402

torch.set_num_threads(1)
TO_GGUF = {v: k for k, v in LAYER.items()}
TO_GGUF_GLOBAL = {v: k for k, v in GLOBAL.items()}


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def ids_arg(s):
    return torch.tensor([[int(x) for x in s.split(",")]], dtype=torch.int64)


def hf_logits(d, ids, out):
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(input_ids=ids_arg(ids)).logits.float()
    save_file({"logits": logits.contiguous()}, out)


def gguf_logits(path, ids, out):
    model, _ = load_gguf(path)
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids_arg(ids)).logits.float()
    save_file({"logits": logits.contiguous()}, out)


def gguf_check(path, hfdir):
    r = GGUFReader(path)
    state = {}
    for f in sorted(glob.glob(os.path.join(hfdir, "*.safetensors"))):
        state.update(load_file(f))
    heads, kv = field(r, "llama.attention.head_count"), field(r, "llama.attention.head_count_kv")
    ftype = field(r, "general.file_type")
    want = {}
    for name, w in state.items():
        stem, suffix = name.rsplit(".", 1)
        if stem in TO_GGUF_GLOBAL:
            gname = TO_GGUF_GLOBAL[stem]
        else:
            _, _, n, part = stem.split(".", 3)
            gname = f"blk.{n}.{TO_GGUF[part]}"
            if part == "self_attn.q_proj":
                w = permute(w, heads)
            elif part == "self_attn.k_proj":
                w = permute(w, kv)
        w = np.ascontiguousarray(w, dtype=np.float32)
        if w.ndim == 1:
            qt = Q.F32
        elif ftype == 7 and w.shape[-1] % 32 == 0:
            qt = Q.Q8_0
        else:
            qt = Q.F16
        want[f"{gname}.{suffix}"] = (qt, w)
    tensors = {}
    offsets_aligned = True
    for t in r.tensors:
        offsets_aligned = offsets_aligned and t.data_offset % 32 == 0
        if t.name not in want:
            tensors[t.name] = {"type": t.tensor_type.name, "expected": False}
            continue
        qt, w = want.pop(t.name)
        raw = np.asarray(t.data).tobytes()
        ref = quantize(w, qt).tobytes()
        deq = dequantize(np.asarray(t.data), t.tensor_type).reshape(w.shape)
        tensors[t.name] = {"type": t.tensor_type.name, "want_type": qt.name, "bytes_equal": raw == ref,
                           "shape": [int(d) for d in reversed(t.shape)],
                           "max_abs_diff": float(np.abs(deq.astype(np.float64) - w).max()),
                           "max_abs": float(np.abs(w).max())}
    meta, lengths = {}, {}
    for k, f in r.fields.items():
        if k.startswith("GGUF."):
            continue
        if f.types[0].name == "ARRAY":
            lengths[k] = len(f.data)
        else:
            v = f.parts[f.data[0]]
            meta[k] = v.tobytes().decode() if f.types[0].name == "STRING" else v.item()
    print(json.dumps({"tensors": tensors, "missing": sorted(want), "metadata": meta, "array_lengths": lengths,
                      "offsets_aligned": offsets_aligned, "alignment": r.alignment}))


def main():
    mode = sys.argv[1]
    if mode == "hf":
        hf_logits(*sys.argv[2:5])
    elif mode == "gguf":
        gguf_check(*sys.argv[2:4])
        gguf_logits(sys.argv[2], *sys.argv[4:6])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
