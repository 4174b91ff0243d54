"""The Python peer of `make bench` (cmd/bench): one workload of the benchmark, run with torch, transformers and
PEFT (the versions of scripts/requirements.txt), in a fresh process.

usage: bench_peer.py ROW --batch B --seq T --warmup W --steps N --threads K [--gguf FILE] [--prompts FILE]
                     [--device cpu|cuda] [--dtype float32|bfloat16] [--model DIR] [--grad-checkpoint]

ROW is one of
  gpt2     GPT2ForSequenceClassification, GPT-2-small shape, random weights, LoRA r=8 on c_attn, c_proj, c_fc,
           score trained (modules_to_save), LoRA+ AdamW, cross-entropy on random ids and labels;
  roberta  RobertaForSequenceClassification, roberta-base shape, random weights, LoRA r=8 on query and value,
           classifier trained;
  smollm2  LlamaForCausalLM with the weights of the SmolLM2 GGUF file (dequantized with gguf-py), LoRA r=8 on the
           seven projections, causal-LM loss on random ids;
  mmlu     SmolLM2 without adapters scoring the prompts of FILE (token ids written by cmd/bench): the logits of the
           last token over the four answer letters, without gradients, one prompt at a time;
  llama7b-cls, llama7b-lm
           the Llama checkpoint of --model DIR (scripts/make_llama7b.py's Llama-2-7B shape) loaded with
           from_pretrained in --dtype on --device, LoRA r=16 alpha 32 on the seven projections; -cls is
           LlamaForSequenceClassification with 3 labels and its new score head trained (modules_to_save), -lm the
           causal-LM loss; --grad-checkpoint turns on gradient checkpointing (non-reentrant).
Dropout is 0 everywhere, so both stacks do the same work. On the CPU the gpt2, roberta, smollm2 and mmlu rows use
transformers' eager attention, named explicitly since transformers 5 defaults to sdpa: the peer keeps the attention
it ran with on transformers 4.44 and torch 2.1.0. On a GPU, and for the llama7b rows, attention is sdpa (its fused
kernels), as users run it. --dtype is the base weights' dtype; PEFT keeps the adapters in fp32.
Prints one JSON line: the row, steps/s, items/s (tokens or prompts), seconds from process start to the first
finished step (from /proc/self/stat), peak RSS (VmHWM), the seconds the model took to load, device and dtype.
On CUDA every step ends with torch.cuda.synchronize().
"""
import argparse
import json
import os
import sys
import time


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def process_age():
    """Seconds since this process started, from /proc/self/stat's starttime (clock ticks after boot)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of the line; fields[0] is field 3
    return uptime() - start


# the wall-clock time at which this process started
START = time.time() - process_age()

import numpy as np  # noqa: E402
import torch  # noqa: E402


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def loraplus_optimizer(model, lr=1e-4, ratio=16.0):
    from peft.optimizers import create_loraplus_optimizer

    return create_loraplus_optimizer(model=model, optimizer_cls=torch.optim.AdamW, lr=lr, loraplus_lr_ratio=ratio,
                                     betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)


def wrap(model, targets, head, r=8, alpha=8):
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets, modules_to_save=head,
                     fan_in_fan_out=False)
    return get_peft_model(model, cfg)


ARGS = None  # the parsed command line


def attn():
    """The attention implementation: eager on the CPU (the historical rows), sdpa on a GPU."""
    return "eager" if ARGS.device == "cpu" else "sdpa"


def place(model):
    """model in the base dtype on the device (adapters are made after, in fp32)."""
    return model.to(device=ARGS.device, dtype=getattr(torch, ARGS.dtype))


def sync():
    if ARGS.device != "cpu":
        torch.cuda.synchronize()


def gpt2(a):
    import warnings

    from transformers import GPT2Config, GPT2ForSequenceClassification

    cfg = GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, resid_pdrop=0.0,
                     embd_pdrop=0.0, attn_pdrop=0.0, num_labels=2, pad_token_id=50256, attn_implementation=attn())
    model = place(GPT2ForSequenceClassification(cfg))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fan_in_fan_out is switched on for GPT-2's Conv1D
        model = wrap(model, ["c_attn", "c_proj", "c_fc"], ["score"])
    ids = torch.randint(0, 50000, (a.batch, a.seq), device=a.device)
    return classifier_step(model, ids, num_labels=2)


def roberta(a):
    from transformers import RobertaConfig, RobertaForSequenceClassification

    cfg = RobertaConfig(vocab_size=50265, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=3072, max_position_embeddings=514, type_vocab_size=1,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2, pad_token_id=1,
                        attn_implementation=attn())
    model = wrap(place(RobertaForSequenceClassification(cfg)), ["query", "value"], ["classifier"])
    ids = torch.randint(3, 50000, (a.batch, a.seq), device=a.device)
    return classifier_step(model, ids, num_labels=2)


def classifier_step(model, ids, num_labels):
    model.train()
    opt = loraplus_optimizer(model)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, num_labels, (ids.shape[0],), device=ids.device)
    params = [p for p in model.parameters() if p.requires_grad]

    def step():
        opt.zero_grad()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sync()

    return step, ids.numel()


def load_smollm2(path):
    """SmolLM2 from its GGUF file: every tensor dequantized to fp32, q/k rows back in Hugging Face order
    (llama_smollm2.load_gguf, the loader of the GGUF parity test)."""
    from llama_smollm2 import load_gguf

    model = load_gguf(path)[0]
    model.config._attn_implementation = attn()
    return place(model)


def smollm2(a):
    model = load_smollm2(a.gguf)
    model = wrap(model, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], None)
    model.train()
    opt = loraplus_optimizer(model)
    ids = torch.randint(0, model.config.vocab_size, (a.batch, a.seq), device=a.device)
    params = [p for p in model.parameters() if p.requires_grad]

    def step():
        opt.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sync()

    return step, ids.numel()


def llama7b(a):
    """The Llama-2-7B-shaped checkpoint of --model: sequence classification (row llama7b-cls) or causal LM."""
    from transformers import LlamaForCausalLM, LlamaForSequenceClassification

    cls = a.row == "llama7b-cls"
    load = dict(dtype=getattr(torch, a.dtype), attn_implementation="sdpa", device_map=a.device)
    if cls:
        model = LlamaForSequenceClassification.from_pretrained(a.model, num_labels=3, **load)
    else:
        model = LlamaForCausalLM.from_pretrained(a.model, **load)
    model.config.use_cache = False
    if a.grad_checkpoint:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = wrap(model, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                 ["score"] if cls else None, r=16, alpha=32)
    model.train()
    opt = loraplus_optimizer(model)
    ids = torch.randint(3, model.config.vocab_size, (a.batch, a.seq), device=a.device)
    labels = torch.randint(0, 3, (a.batch,), device=a.device)
    params = [p for p in model.parameters() if p.requires_grad]

    def step():
        opt.zero_grad()
        if cls:
            loss = model(input_ids=ids, labels=labels).loss
        else:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sync()

    return step, ids.numel()


def mmlu(a):
    with open(a.prompts) as f:
        job = json.load(f)
    prompts = [torch.tensor([p], dtype=torch.int64, device=a.device) for p in job["prompts"]]
    letters = torch.tensor(job["choices"], dtype=torch.int64, device=a.device)
    model = load_smollm2(a.gguf).eval()
    answers = []
    state = {"next": 0}

    def step():
        ids = prompts[state["next"] % len(prompts)]
        state["next"] += 1
        with torch.no_grad():
            h = model.model(input_ids=ids).last_hidden_state[:, -1]
            logits = model.lm_head(h).index_select(-1, letters)
        answers.append("ABCD"[int(logits.argmax(-1)[0])])

    return step, 1, answers


def main():
    p = argparse.ArgumentParser()
    p.add_argument("row", choices=["gpt2", "roberta", "smollm2", "mmlu", "llama7b-cls", "llama7b-lm"])
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gguf", default="")
    p.add_argument("--prompts", default="")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--model", default="")
    p.add_argument("--grad-checkpoint", action="store_true")
    a = p.parse_args()
    global ARGS
    ARGS = a
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    answers = None
    t_load = time.perf_counter()
    if a.row == "mmlu":
        step, per_step, answers = mmlu(a)
    else:
        step, per_step = {"gpt2": gpt2, "roberta": roberta, "smollm2": smollm2, "llama7b-cls": llama7b,
                          "llama7b-lm": llama7b}[a.row](a)
    load_s = time.perf_counter() - t_load
    first = None
    for i in range(a.warmup):
        step()
        if first is None:
            first = time.time() - START
    t0 = time.perf_counter()
    for i in range(a.steps):
        step()
        if first is None:
            first = time.time() - START
    dt = time.perf_counter() - t0
    out = {"row": a.row, "stack": "python", "steps": a.steps, "warmup": a.warmup, "threads": torch.get_num_threads(),
           "seconds": dt, "steps_per_s": a.steps / dt, "items_per_s": a.steps * per_step / dt,
           "first_step_s": first, "peak_rss_mb": peak_rss_mb(), "load_s": load_s, "device": a.device,
           "dtype": a.dtype}
    if answers is not None:
        out["answers"] = "".join(answers[a.warmup:])
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
