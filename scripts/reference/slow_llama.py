"""transformers 4's slow (SentencePiece) LlamaTokenizer, for the references that tokenize with it (tok_encode.py,
mmlu_llama_tiny.py).

transformers 5 has no such class: its LlamaTokenizer is backed by tokenizers, LlamaTokenizer(vocab_file=...) ignores
the file, and from_pretrained on a directory holding only tokenizer.model fails without protobuf. The methods that
made the slow class Llama's are restated here as transformers 4 had them, on transformers 5's SentencePiece backend:
<s> before each sequence, type ids 0 then 1, and decoding that keeps special tokens out of sentencepiece. Splitting
the text on special tokens and encoding each piece with sentencepiece is the backend's own legacy path.
"""
from transformers import AddedToken
from transformers.tokenization_utils_sentencepiece import SPIECE_UNDERLINE, SentencePieceBackend


class SlowLlamaTokenizer(SentencePieceBackend):
    """The slow LlamaTokenizer with its defaults: legacy=True, add_bos_token=True, add_eos_token=False,
    add_prefix_space=True, <unk>/<s>/</s> special and not normalized."""

    def __init__(self, vocab_file):
        self.add_bos_token, self.add_eos_token, self.add_prefix_space = True, False, True
        special = {k: AddedToken(v, normalized=False, special=True)
                   for k, v in [("unk_token", "<unk>"), ("bos_token", "<s>"), ("eos_token", "</s>")]}
        super().__init__(vocab_file=vocab_file, legacy=True, clean_up_tokenization_spaces=False,
                         spaces_between_special_tokens=False, **special)

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        bos = [self.bos_token_id] if self.add_bos_token else []
        eos = [self.eos_token_id] if self.add_eos_token else []
        out = bos + token_ids_0 + eos
        return out if token_ids_1 is None else out + bos + token_ids_1 + eos

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        bos = [1] if self.add_bos_token else []
        eos = [1] if self.add_eos_token else []
        out = bos + [0] * len(token_ids_0) + eos
        return out if token_ids_1 is None else out + bos + [0] * len(token_ids_1) + eos

    def create_token_type_ids_from_sequences(self, token_ids_0, token_ids_1=None):
        n = int(self.add_bos_token) + int(self.add_eos_token)
        out = [0] * (n + len(token_ids_0))
        return out if token_ids_1 is None else out + [1] * (n + len(token_ids_1))

    def convert_tokens_to_string(self, tokens):
        if not tokens:
            return ""
        # sentencepiece's prefix space is removed again
        if tokens[0].startswith(SPIECE_UNDERLINE) and self.add_prefix_space:
            tokens[0] = tokens[0][1:]
        pieces, out, prev_special = [], "", False
        for i, token in enumerate(tokens):
            if token in self.all_special_tokens:  # special tokens are not decoded by sentencepiece
                if not prev_special and i != 0 and self.legacy:
                    out += " "
                out += self.sp_model.decode(pieces) + token
                prev_special, pieces = True, []
            else:
                if prev_special and i == 1 and self.add_prefix_space and not token.startswith(SPIECE_UNDERLINE):
                    out += " "
                pieces.append(token)
                prev_special = False
        return out + self.sp_model.decode(pieces)
