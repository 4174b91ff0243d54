"""Convert tiny Hugging Face Llama models written by llama_tiny.py to GGUF, as llama.cpp's convert_hf_to_gguf.py does.

usage: llama_tiny_gguf.py REFDIR VARIANT...

For each VARIANT reads REFDIR/VARIANT/{config.json,model.safetensors} and writes REFDIR/VARIANT.gguf: llama.*
hyperparameters (rope scaling "linear" included), tensors under llama.cpp names with q_proj/k_proj rows (weights
and biases) permuted by the converter's LlamaModel.permute, norms in F32 and the other tensors in F16 for the
"f16" variant names (VARIANT ending in "-f16" reads REFDIR/<VARIANT without -f16>), else F32. output.weight is
left out for tied models.
"""
import json
import os
import sys

import gguf
import numpy as np
from safetensors.numpy import load_file

LAYER = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}
GLOBAL = {"model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output"}


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def to_gguf(state, heads, kv):
    """Yields (GGUF name, fp32 array) for an HF Llama state dict: llama.cpp's tensor names and its q/k row
    permutation, as convert_hf_to_gguf.py writes them."""
    for name, t in state.items():
        stem, suffix = name.rsplit(".", 1)
        if stem in GLOBAL:
            gname = GLOBAL[stem]
        else:
            _, _, n, part = stem.split(".", 3)
            gname = f"blk.{n}.{LAYER[part]}"
            if part == "self_attn.q_proj":
                t = permute(t, heads)
            elif part == "self_attn.k_proj":
                t = permute(t, kv)
        yield f"{gname}.{suffix}", np.ascontiguousarray(t, dtype=np.float32)


def convert(refdir, variant):
    f16 = variant.endswith("-f16")
    src = os.path.join(refdir, variant.removesuffix("-f16"))
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    state = load_file(os.path.join(src, "model.safetensors"))
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    # transformers 5 writes rope_theta and the scaling together as rope_parameters; before, as rope_theta and
    # rope_scaling
    rope = cfg.get("rope_parameters") or dict(cfg.get("rope_scaling") or {}, rope_theta=cfg["rope_theta"])
    w = gguf.GGUFWriter(os.path.join(refdir, variant + ".gguf"), "llama")
    w.add_name(variant)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_rope_freq_base(rope["rope_theta"])
    w.add_rope_dimension_count(cfg["hidden_size"] // heads)
    w.add_vocab_size(cfg["vocab_size"])
    if rope.get("rope_type", rope.get("type")) == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(rope["factor"])
    for gname, t in to_gguf(state, heads, kv):
        if f16 and t.ndim == 2:
            t = t.astype(np.float16)
        w.add_tensor(gname, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    for v in sys.argv[2:]:
        convert(sys.argv[1], v)


if __name__ == "__main__":
    main()
