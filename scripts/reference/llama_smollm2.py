"""Reference logits of a real GGUF Llama model (SmolLM2-135M-Instruct Q4_1) with transformers for the Go
loader tests.

usage: llama_smollm2.py FILE.gguf OUT.safetensors IDS

The state dict is built here: every tensor is dequantized with gguf-py, q_proj/k_proj rows get llama.cpp's rotary
permutation undone (transformers' reverse_permute_weights), and the result is loaded into a LlamaForCausalLM
(eager attention) whose LlamaConfig comes from the llama.* metadata. (transformers 4.44 could not dequantize Q4_1;
transformers 5.17's from_pretrained(gguf_file=...) can, and gives the same logits bit for bit.)
IDS is a comma-separated list of token ids; the batch is [ids, ids[:n/2] + right padding with the eos id].
Writes ids [2, T] and mask [2, T] (int64) and logits [2, T, V] (fp32).
"""
import sys

import numpy as np
import torch
from gguf import GGUFReader, GGMLQuantizationType as Q
from gguf.quants import dequantize
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.initialization import no_init_weights

torch.set_num_threads(1)

LAYER = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
}
GLOBAL = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def reverse_permute(w, n_head):
    dim = w.shape[0] // n_head // 2
    return w.reshape(n_head, dim, 2, *w.shape[1:]).swapaxes(2, 1).reshape(w.shape)


def field(r, key):
    f = r.fields[key]
    v = f.parts[f.data[0]]
    return v.tobytes().decode() if f.types[0].name == "STRING" else v.item()


def load_gguf(path):
    """Builds transformers' LlamaForCausalLM (eager attention, fp32) from a Llama GGUF file, dequantizing its
    tensors and undoing llama.cpp's q/k row permutation. Returns the model and the GGUF reader."""
    r = GGUFReader(path)
    heads, kv = field(r, "llama.attention.head_count"), field(r, "llama.attention.head_count_kv")
    names = {t.name for t in r.tensors}
    tok_embd = next(t for t in r.tensors if t.name == "token_embd.weight")
    cfg = LlamaConfig(
        vocab_size=int(tok_embd.shape[1]), hidden_size=field(r, "llama.embedding_length"),
        intermediate_size=field(r, "llama.feed_forward_length"), num_hidden_layers=field(r, "llama.block_count"),
        num_attention_heads=heads, num_key_value_heads=kv,
        max_position_embeddings=field(r, "llama.context_length"),
        rms_norm_eps=float(np.float32(field(r, "llama.attention.layer_norm_rms_epsilon"))),
        rope_theta=float(np.float32(field(r, "llama.rope.freq_base"))),
        tie_word_embeddings="output.weight" not in names, attn_implementation="eager", use_cache=False)
    state = {}
    for t in r.tensors:
        shape = tuple(int(d) for d in reversed(t.shape))
        if t.tensor_type == Q.F32:
            w = np.asarray(t.data, dtype=np.float32).reshape(shape)
        else:
            w = dequantize(np.asarray(t.data), t.tensor_type).reshape(shape)
        stem, suffix = t.name.rsplit(".", 1)
        if stem in GLOBAL:
            name = GLOBAL[stem] + "." + suffix
        else:
            _, n, part = stem.split(".")
            name = f"model.layers.{n}.{LAYER[part]}.{suffix}"
            if part == "attn_q":
                w = reverse_permute(w, heads)
            elif part == "attn_k":
                w = reverse_permute(w, kv)
        state[name] = torch.from_numpy(np.array(w, dtype=np.float32))
    with no_init_weights():
        model = LlamaForCausalLM(cfg)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    if cfg.tie_word_embeddings:
        model.tie_weights()
    return model, r


def main():
    path, out, ids_arg = sys.argv[1], sys.argv[2], sys.argv[3]
    model, r = load_gguf(path)
    model.eval()

    ids = [int(x) for x in ids_arg.split(",")]
    n = len(ids)
    eos = field(r, "tokenizer.ggml.eos_token_id")
    batch = torch.tensor([ids, ids[: n // 2] + [eos] * (n - n // 2)], dtype=torch.int64)
    mask = torch.ones_like(batch)
    mask[1, n // 2:] = 0
    with torch.no_grad():
        logits = model(input_ids=batch, attention_mask=mask).logits.float()
    save_file({"ids": batch, "mask": mask, "logits": logits.contiguous()}, out)


if __name__ == "__main__":
    main()
