"""Write small GGUF fixtures and their reference values for nn/weights/gguf tests.

Usage: gguf_fixture.py OUTDIR

Writes, using gguf-py (GGUFWriter, gguf.quants) as the reference:

  types.gguf  + types.json   one tensor per supported ggml type; quantized with
                             gguf.quants where it can (BF16, Q4_0, Q4_1, Q5_0,
                             Q5_1, Q8_0), otherwise random raw blocks laid out as
                             in ggml-common.h (Q2_K..Q6_K, Q8_K). References are
                             gguf.quants.dequantize (numpy for Q8_K, which gguf-py
                             cannot dequantize) as raw little-endian float32
                             files ref/<name>.f32.
  meta.gguf   + meta.json    every metadata value type, typed and nested arrays,
                             general.alignment = 64; meta.json is gguf_dump.py's
                             reading of the file.
  llama.gguf  + llama.json   a tiny Llama model converted like llama.cpp's
                             convert_hf_to_gguf.py (q/k rows permuted by
                             LlamaModel.permute); references are the Hugging Face
                             tensors (after the storage type's rounding).
  perm.json   + perm/*.f32   a random matrix and its converter permutation for
                             several head counts.

When llama.cpp's ggml library (from the llama_cpp package) can be loaded, the
gguf-py dequantization of every quantized fixture is also checked bit for bit
against ggml's own dequantize_row_* functions; the types checked are listed in
types.json under "ggml_checked".
"""
from __future__ import annotations

import ctypes
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V
from gguf.constants import GGML_QUANT_SIZES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_dump  # noqa: E402

RNG = np.random.default_rng(20240611)


def write_f32(path: str, a: np.ndarray) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


def finish(w: gguf.GGUFWriter) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---------------------------------------------------------------- types.gguf

# Byte offsets of the fp16 scale fields inside one block, which random blocks
# get finite values for.
F16_FIELDS = {
    T.Q2_K: [80, 82],
    T.Q3_K: [108],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}


def random_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    """Random ggml blocks: random bits everywhere, finite scales."""
    _, ts = GGML_QUANT_SIZES[qtype]
    b = RNG.integers(0, 256, size=(n_blocks, ts), dtype=np.uint8)
    if qtype == T.Q8_K:
        d = RNG.uniform(-0.05, 0.05, size=(n_blocks, 1)).astype("<f4")
        b[:, 0:4] = d.view(np.uint8)
        qs = b[:, 4:260].view(np.int8).astype(np.int16)
        b[:, 260:292] = qs.reshape(n_blocks, 16, 16).sum(axis=-1).astype("<i2").view(np.uint8)
        return b
    for off in F16_FIELDS[qtype]:
        d = RNG.uniform(-2, 2, size=(n_blocks, 1)).astype("<f2")
        b[:, off:off + 2] = d.view(np.uint8)
    return b


def dequant_q8_k(blocks: np.ndarray) -> np.ndarray:
    d = blocks[:, 0:4].copy().view("<f4").astype(np.float32)
    qs = blocks[:, 4:260].view(np.int8).astype(np.float32)
    return d * qs


def special_f32() -> np.ndarray:
    return np.array([0.0, -0.0, 1e-40, -1e-45, np.inf, -np.inf, np.nan, 3.4e38], dtype=np.float32)


def ggml_lib():
    import importlib.util
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "lib", "libggml-base.so")
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def ggml_dequant(lib, qtype: T, blocks: np.ndarray) -> np.ndarray | None:
    fn = getattr(lib, "dequantize_row_" + qtype.name.lower().replace("_k", "_K"), None)
    if fn is None:
        return None
    bs, _ = GGML_QUANT_SIZES[qtype]
    blocks = np.ascontiguousarray(blocks)
    out = np.zeros(blocks.shape[0] * bs, dtype=np.float32)
    fn(blocks.ctypes.data_as(ctypes.c_void_p), out.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(out.size))
    return out


def write_types(out: str) -> None:
    w = gguf.GGUFWriter(os.path.join(out, "types.gguf"), arch="fixture")
    manifest = []
    lib = ggml_lib()
    checked = []

    def add(name, qtype, stored, ref, shape):
        if stored.dtype == np.uint8:
            w.add_tensor(name, stored, raw_dtype=qtype)
        else:
            w.add_tensor(name, stored)
        ref = np.asarray(ref, dtype=np.float32).reshape(shape)
        write_f32(os.path.join(out, "ref", name + ".f32"), ref)
        manifest.append({"name": name, "type": int(qtype), "shape": list(shape), "ref": "ref/" + name + ".f32"})

    # F32, including a 1-D and a 3-D tensor and special values.
    a = RNG.standard_normal((2, 3, 8)).astype(np.float32)
    a.reshape(-1)[:8] = special_f32()
    add("f32_3d", T.F32, a, a, a.shape)
    a = RNG.standard_normal(7).astype(np.float32)
    add("f32_1d", T.F32, a, a, a.shape)

    # F16 with subnormals, the largest finite value, infinities, NaN, -0.
    h = (RNG.standard_normal((4, 40)) * 10).astype(np.float16)
    h.reshape(-1)[:8] = np.array([6e-8, -6e-8, 1e-5, 65504, -np.inf, np.inf, np.nan, -0.0], dtype=np.float16)
    add("f16", T.F16, h, h.astype(np.float32), h.shape)

    x = RNG.standard_normal((3, 24)).astype(np.float32)
    x.reshape(-1)[:8] = special_f32()
    q = gguf.quants.quantize(x, T.BF16)
    add("bf16", T.BF16, q, gguf.quants.dequantize(q, T.BF16), x.shape)

    # Legacy quants, quantized by gguf-py; include an all-zero and a constant row.
    for qt in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        x = RNG.standard_normal((5, 96)).astype(np.float32)
        x[1] = 0
        x[2] = 0.75
        q = gguf.quants.quantize(x, qt)
        ref = gguf.quants.dequantize(q, qt)
        if lib is not None:
            c = ggml_dequant(lib, qt, q.reshape(-1, GGML_QUANT_SIZES[qt][1]))
            assert c is not None and np.array_equal(c.view(np.uint32), ref.reshape(-1).view(np.uint32)), qt.name
            checked.append(qt.name)
        add(qt.name.lower(), qt, q, ref, x.shape)

    # K-quants: random raw blocks.
    for qt in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K):
        rows, cols = (3, 512) if qt != T.Q8_K else (2, 256)
        nb = rows * cols // 256
        b = random_blocks(qt, nb)
        if qt == T.Q8_K:
            ref = dequant_q8_k(b)
        else:
            ref = gguf.quants.dequantize(b, qt)
        if lib is not None:
            c = ggml_dequant(lib, qt, b)
            assert c is not None and np.array_equal(c.view(np.uint32), ref.reshape(-1).view(np.uint32)), qt.name
            checked.append(qt.name)
        add(qt.name.lower(), qt, b.reshape(rows, -1), ref, (rows, cols))

    finish(w)
    with open(os.path.join(out, "types.json"), "w") as f:
        json.dump({"tensors": manifest, "ggml_checked": checked}, f, indent=1)


# ----------------------------------------------------------------- meta.gguf

class TypedArray:
    """A metadata array with an explicit element type (GGUFWriter infers only
    int32, float32, bool, string and array elements)."""

    def __init__(self, vtype: V, items: list):
        self.vtype = vtype
        self.items = items


class Writer(gguf.GGUFWriter):
    def _pack_val(self, val, vtype, add_vtype, sub_type=None):  # noqa: D401
        if isinstance(val, TypedArray):
            data = bytearray()
            if add_vtype:
                data += self._pack("I", V.ARRAY)
            data += self._pack("I", val.vtype)
            data += self._pack("Q", len(val.items))
            for item in val.items:
                data += self._pack_val(item, val.vtype, add_vtype=False)
            return bytes(data)
        return super()._pack_val(val, vtype, add_vtype, sub_type)


def write_meta(out: str) -> None:
    path = os.path.join(out, "meta.gguf")
    w = Writer(path, arch="fixture")
    w.add_custom_alignment(64)
    w.add_uint8("fx.u8", 200)
    w.add_int8("fx.i8", -100)
    w.add_uint16("fx.u16", 65000)
    w.add_int16("fx.i16", -30000)
    w.add_uint32("fx.u32", 4_000_000_000)
    w.add_int32("fx.i32", -2_000_000_000)
    w.add_float32("fx.f32", 3.14159)
    w.add_bool("fx.bool", True)
    w.add_bool("fx.bool_false", False)
    w.add_string("fx.str", "h\u00e9llo \u2713")
    w.add_key_value("fx.str_bytes", b"\xff\xfe not utf-8", V.STRING)
    w.add_uint64("fx.u64", 2**64 - 1)
    w.add_int64("fx.i64", -2**63)
    w.add_float64("fx.f64", 2.718281828459045)
    w.add_int32("fx.neg_i32", -5)
    w.add_array("fx.arr.i32", [1, -2, 3])
    w.add_array("fx.arr.f32", [0.5, -1.25, 1e-5])
    w.add_array("fx.arr.str", ["a", "", "\u65e5\u672c\u8a9e", "with space"])
    w.add_array("fx.arr.bool", [True, False, True])
    w.add_array("fx.arr.u8", b"\x00\x01\xff")
    w.add_array("fx.arr.nested", [[1, 2], [3]])
    w.add_array("fx.arr.nested_str", [["x"], ["y", "z"]])
    w.add_key_value("fx.arr.deep", TypedArray(V.ARRAY, [TypedArray(V.ARRAY, [TypedArray(V.UINT16, [7, 8])])]), V.ARRAY)
    w.add_key_value("fx.arr.i8", TypedArray(V.INT8, [-128, 0, 127]), V.ARRAY)
    w.add_key_value("fx.arr.u16", TypedArray(V.UINT16, [0, 65535]), V.ARRAY)
    w.add_key_value("fx.arr.i16", TypedArray(V.INT16, [-32768, 32767]), V.ARRAY)
    w.add_key_value("fx.arr.u32", TypedArray(V.UINT32, [0, 4_294_967_295]), V.ARRAY)
    w.add_key_value("fx.arr.u32_small", TypedArray(V.UINT32, [1, 2, 3]), V.ARRAY)
    w.add_key_value("fx.arr.u64", TypedArray(V.UINT64, [0, 2**64 - 1]), V.ARRAY)
    w.add_key_value("fx.arr.i64", TypedArray(V.INT64, [-2**63, 2**63 - 1]), V.ARRAY)
    w.add_key_value("fx.arr.f64", TypedArray(V.FLOAT64, [0.1, -2.5]), V.ARRAY)
    w.add_key_value("fx.arr.empty", TypedArray(V.INT32, []), V.ARRAY)
    w.add_tensor("a", RNG.standard_normal((3, 5)).astype(np.float32))
    w.add_tensor("b", RNG.standard_normal(7).astype(np.float16))
    w.add_tensor("c", RNG.standard_normal((2, 2)).astype(np.float32))
    finish(w)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(gguf_dump.dump(path), f)


# ---------------------------------------------------------------- llama.gguf

def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    """LlamaModel.permute from llama.cpp's convert_hf_to_gguf.py."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def write_llama(out: str) -> None:
    hidden, heads, kv_heads, head_dim, ffn, vocab, layers = 64, 4, 2, 16, 96, 40, 2
    path = os.path.join(out, "llama.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_name("tiny-llama-fixture")
    w.add_block_count(layers)
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(500000.0)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    w.add_rope_scaling_factor(2.0)
    w.add_rope_scaling_orig_ctx_len(128)
    w.add_vocab_size(vocab)
    tokens = ["<unk>", "<s>", "</s>", "<pad>"] + [f"\u2581tok{i}" for i in range(vocab - 4)]
    scores = [0.0] * 4 + [-float(i) for i in range(vocab - 4)]
    types = [2, 3, 3, 3] + [1] * (vocab - 4)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(3)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template("{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}")

    manifest = []

    def emit(gguf_name, hf_name, hf, qtype=T.F32, perm_heads=0):
        hf = hf.astype(np.float32)
        stored = permute(hf, heads, perm_heads) if perm_heads else hf
        if qtype == T.F32:
            w.add_tensor(gguf_name, stored)
            ref = hf
        elif qtype == T.F16:
            w.add_tensor(gguf_name, stored.astype(np.float16))
            ref = hf.astype(np.float16).astype(np.float32)
        else:
            w.add_tensor(gguf_name, gguf.quants.quantize(stored, qtype), raw_dtype=qtype)
            # Row-wise quantization commutes with the row permutation.
            ref = gguf.quants.dequantize(gguf.quants.quantize(hf, qtype), qtype)
        write_f32(os.path.join(out, "llama", hf_name + ".f32"), ref)
        manifest.append({"gguf": gguf_name, "hf": hf_name, "type": int(qtype), "shape": list(hf.shape),
                         "permute_heads": perm_heads,
                         "ref": "llama/" + hf_name + ".f32"})

    def rand(*shape):
        return RNG.standard_normal(shape).astype(np.float32) * 0.1

    emit("token_embd.weight", "model.embed_tokens.weight", rand(vocab, hidden))
    for i in range(layers):
        p, h = f"blk.{i}.", f"model.layers.{i}."
        q_type, k_type, v_type, o_type = (T.F32,) * 4 if i == 0 else (T.F16, T.Q8_0, T.Q4_0, T.BF16)
        emit(p + "attn_q.weight", h + "self_attn.q_proj.weight", rand(heads * head_dim, hidden), q_type, heads)
        emit(p + "attn_k.weight", h + "self_attn.k_proj.weight", rand(kv_heads * head_dim, hidden), k_type, kv_heads)
        emit(p + "attn_v.weight", h + "self_attn.v_proj.weight", rand(kv_heads * head_dim, hidden), v_type)
        emit(p + "attn_output.weight", h + "self_attn.o_proj.weight", rand(hidden, heads * head_dim), o_type)
        if i == 0:
            emit(p + "attn_q.bias", h + "self_attn.q_proj.bias", rand(heads * head_dim), T.F32, heads)
            emit(p + "attn_k.bias", h + "self_attn.k_proj.bias", rand(kv_heads * head_dim), T.F32, kv_heads)
        emit(p + "ffn_gate.weight", h + "mlp.gate_proj.weight", rand(ffn, hidden), T.Q4_1 if i else T.F32)
        emit(p + "ffn_up.weight", h + "mlp.up_proj.weight", rand(ffn, hidden), T.Q5_0 if i else T.F32)
        emit(p + "ffn_down.weight", h + "mlp.down_proj.weight", rand(hidden, ffn), T.Q5_1 if i else T.F32)
        emit(p + "attn_norm.weight", h + "input_layernorm.weight", 1 + rand(hidden))
        emit(p + "ffn_norm.weight", h + "post_attention_layernorm.weight", 1 + rand(hidden))
    emit("output_norm.weight", "model.norm.weight", 1 + rand(hidden))
    emit("output.weight", "lm_head.weight", rand(vocab, hidden), T.Q8_0)
    w.add_tensor("rope_freqs.weight", np.ones(head_dim // 2, dtype=np.float32))
    finish(w)
    params = {
        "block_count": layers, "context_length": 256, "embedding_length": hidden,
        "feed_forward_length": ffn, "head_count": heads, "head_count_kv": kv_heads,
        "head_dim": head_dim, "vocab_size": vocab, "rms_eps_bits": int(np.float32(1e-6).view(np.uint32)),
        "rope_freq_base": 500000.0, "rope_scaling_type": "linear", "rope_scaling_factor": 2.0,
        "rope_scaling_orig_ctx": 128, "tokens": tokens, "scores": scores, "token_types": types,
    }
    with open(os.path.join(out, "llama.json"), "w") as f:
        json.dump({"tensors": manifest, "params": params, "unmapped": ["rope_freqs.weight"]}, f, indent=1)


# ---------------------------------------------------------------- permutation

def write_perm(out: str) -> None:
    rows, cols = 48, 3
    x = RNG.standard_normal((rows, cols)).astype(np.float32)
    write_f32(os.path.join(out, "perm", "in.f32"), x)
    cases = []
    for heads in (1, 2, 3, 4, 6, 12, 24):
        ref = f"perm/h{heads}.f32"
        write_f32(os.path.join(out, ref), permute(x, heads, heads))
        cases.append({"heads": heads, "ref": ref})
    with open(os.path.join(out, "perm.json"), "w") as f:
        json.dump({"rows": rows, "cols": cols, "in": "perm/in.f32", "cases": cases}, f, indent=1)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: gguf_fixture.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with np.errstate(all="ignore"):
        write_types(out)
        write_meta(out)
        write_llama(out)
        write_perm(out)


if __name__ == "__main__":
    main()
