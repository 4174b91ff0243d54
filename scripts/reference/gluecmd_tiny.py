"""Tiny random GPT-2 and RoBERTa sequence classifiers (transformers) for the end-to-end tests of cmd/glue.

usage: gluecmd_tiny.py ARCH DIR [LABELS]     ARCH is gpt2 or roberta
  writes DIR/config.json and DIR/model.safetensors: a *ForSequenceClassification model with the real vocabulary
  size (GPT-2 50257, RoBERTa 50265, so the real tokenizers' ids fit), 1 layer, width 16, 128 positions,
  LABELS labels (default 3; 1 is a regression head, as STS-B's); GPT-2's pad token is its end-of-text token 50256, RoBERTa's is 1.
"""
import sys

import torch
from transformers import GPT2Config, GPT2ForSequenceClassification, RobertaConfig, RobertaForSequenceClassification


def main():
    arch, out = sys.argv[1], sys.argv[2]
    labels = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.manual_seed(0)
    if arch == "gpt2":
        cfg = GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=50257, n_positions=128, num_labels=labels,
                         bos_token_id=50256, eos_token_id=50256, pad_token_id=50256)
        model = GPT2ForSequenceClassification(cfg)
    elif arch == "roberta":
        cfg = RobertaConfig(vocab_size=50265, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=32, max_position_embeddings=130, type_vocab_size=1, num_labels=labels,
                            pad_token_id=1, bos_token_id=0, eos_token_id=2)
        model = RobertaForSequenceClassification(cfg)
    else:
        sys.exit(f"unknown arch {arch!r} (want gpt2 or roberta)")
    model.save_pretrained(out)


if __name__ == "__main__":
    main()
