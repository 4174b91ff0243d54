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
  export_check.py gguf-bytes FILE HFDIR
      the report of gguf alone, for files load_gguf cannot build (biases, rope scaling).
  export_check.py spm FILE HFDIR
      compares FILE's tokenizer.ggml.* metadata with what llama.cpp's converters build from HFDIR's SentencePiece
      tokenizer.model: gguf-py's SentencePieceVocab (pieces, scores, types, added_tokens.json) padded with
      "[PADi]" (unused, score -1000) to config.json's vocab_size as convert_hf_to_gguf.py pads it, and gguf-py's
      SpecialVocab (special token ids and add_*_token flags). Prints JSON: the count and the list of mismatches.
  export_check.py batch JOBS.json
      runs a list of [mode, args...] jobs of the modes above in one process (one start of torch) and prints their
      JSON reports as a list (null for the modes that print none).
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
from llama_smollm2 import field, load_gguf  # noqa: E402
from llama_tiny_gguf import to_gguf  # noqa: E402

torch.set_num_threads(1)


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
    for gname, w in to_gguf(state, heads, kv):
        if w.ndim == 1:
            qt = Q.F32
        elif ftype == 7 and w.shape[-1] % 32 == 0:
            qt = Q.Q8_0
        else:
            qt = Q.F16
        want[gname] = (qt, w)
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
    return {"tensors": tensors, "missing": sorted(want), "metadata": meta, "array_lengths": lengths,
            "offsets_aligned": offsets_aligned, "alignment": r.alignment}


def spm_check(path, hfdir):
    from pathlib import Path
    from gguf.vocab import SentencePieceVocab, SpecialVocab
    r = GGUFReader(path)
    with open(os.path.join(hfdir, "config.json")) as f:
        n_vocab = json.load(f)["vocab_size"]
    want = list(SentencePieceVocab(Path(hfdir)).all_tokens())
    want += [(f"[PAD{i}]".encode(), -1000.0, 5) for i in range(len(want), n_vocab)]

    def arr(key):
        f = r.fields[key]
        return [f.parts[i] for i in f.data]
    bad = []
    if field(r, "tokenizer.ggml.model") != "llama":
        bad.append("tokenizer.ggml.model")
    tokens = [bytes(p) for p in arr("tokenizer.ggml.tokens")]
    scores = [float(p[0]) for p in arr("tokenizer.ggml.scores")]
    types = [int(p[0]) for p in arr("tokenizer.ggml.token_type")]
    if len(tokens) != len(want):
        bad.append(f"{len(tokens)} tokens, want {len(want)}")
    for i, (text, score, typ) in enumerate(want[: len(tokens)]):
        if tokens[i] != text or scores[i] != np.float32(score) or types[i] != int(typ):
            bad.append(f"token {i}: {tokens[i]!r} {scores[i]} {types[i]}, want {text!r} {score} {int(typ)}")
            if len(bad) > 10:
                break
    sv = SpecialVocab(Path(hfdir), load_merges=False, n_vocab=n_vocab)
    names = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "pad": "padding_token_id"}
    for typ, tid in sv.special_token_ids.items():
        key = "tokenizer.ggml." + names.get(typ, typ + "_token_id")
        if key not in r.fields or field(r, key) != tid:
            bad.append(f"{key}: want {tid}")
    for typ, flag in sv.add_special_token.items():
        key = f"tokenizer.ggml.add_{typ}_token"
        if key not in r.fields or bool(field(r, key)) != flag:
            bad.append(f"{key}: want {flag}")
    return {"tokens": len(tokens), "special": sv.special_token_ids, "mismatches": bad}


def job(mode, *args):
    if mode == "hf":
        return hf_logits(*args[:3])
    if mode == "spm":
        return spm_check(*args[:2])
    if mode == "gguf-bytes":
        return gguf_check(*args[:2])
    if mode == "gguf":
        rep = gguf_check(*args[:2])
        gguf_logits(args[0], *args[2:4])
        return rep
    sys.exit(f"unknown mode {mode}")


def main():
    if sys.argv[1] == "batch":
        with open(sys.argv[2]) as f:
            print(json.dumps([job(*j) for j in json.load(f)]))
        return
    rep = job(*sys.argv[1:])
    if rep is not None:
        print(json.dumps(rep))


if __name__ == "__main__":
    main()
