"""The modules PEFT adapts for target_modules="all-linear" (tests of loraplus's all-linear targets).

usage: peft_all_linear.py DIR TASK     DIR: a save_pretrained model directory; TASK: SEQ_CLS or CAUSAL_LM
  loads DIR with AutoModelForSequenceClassification (SEQ_CLS) or AutoModelForCausalLM (CAUSAL_LM), applies
  get_peft_model(LoraConfig(target_modules="all-linear", task_type=TASK)) and prints, one a line and sorted, the
  paths (relative to the transformers model) of the modules that got a LoRA layer.
"""
import sys

import torch
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification


def main():
    path, task = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    cls = {"SEQ_CLS": AutoModelForSequenceClassification, "CAUSAL_LM": AutoModelForCausalLM}[task]
    model = cls.from_pretrained(path)
    peft = get_peft_model(model, LoraConfig(target_modules="all-linear", task_type=task, r=4))
    names = []
    for name, mod in peft.base_model.model.named_modules():
        if isinstance(mod, LoraLayer):
            names.append(name.replace(".modules_to_save.default", "").replace(".original_module", ""))
    for n in sorted(set(names)):
        print(n)


if __name__ == "__main__":
    main()
