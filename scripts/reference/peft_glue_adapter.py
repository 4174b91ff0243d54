"""A PEFT LoRA adapter with the head in modules_to_save on a tiny GPT-2 classifier, and its predictions (tests of
cmd/glue -adapter with -predict on an adapter PEFT saved).

usage: peft_glue_adapter.py MODEL TOKENIZER ADAPTER_OUT TEST_TSV TEXT_A TEXT_B MAX_LEN
  loads MODEL (a GPT2ForSequenceClassification folder), wraps it with LoraConfig(task_type=SEQ_CLS, r=4,
  lora_alpha=8, target_modules=[c_attn, c_proj, c_fc]) (PEFT adds the score head to modules_to_save), sets every
  lora_B and the score weight to random values, writes save_pretrained(ADAPTER_OUT), then prints for each row of
  TEST_TSV (columns TEXT_A, TEXT_B; TEXT_B "-" for none) the model's output: the argmax class for several labels,
  the score (repr) for one, each example alone (no padding), tokenized as run_glue.py with truncation to MAX_LEN.
"""
import csv
import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoTokenizer, GPT2ForSequenceClassification


def main():
    model_dir, tok_dir, out, test, col_a, col_b, max_len = sys.argv[1:8]
    torch.manual_seed(0)
    model = GPT2ForSequenceClassification.from_pretrained(model_dir)
    cfg = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["c_attn", "c_proj", "c_fc"])
    peft = get_peft_model(model, cfg)
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
            if "modules_to_save" in name and "score" in name:
                p.normal_(0, 0.5)
    peft.save_pretrained(out)
    peft.eval()
    tok = AutoTokenizer.from_pretrained(tok_dir)
    with open(test, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    with torch.no_grad():
        for r in rows:
            args = (r[col_a],) if col_b == "-" else (r[col_a], r[col_b])
            enc = tok(*args, truncation=True, max_length=int(max_len), return_tensors="pt")
            logits = peft(**enc).logits[0]
            print(repr(logits[0].item()) if logits.numel() == 1 else int(logits.argmax()))


if __name__ == "__main__":
    main()
