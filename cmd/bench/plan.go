package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// RowPlan is one row to run: its workload settings and how to describe it.
type RowPlan struct {
	Name     string
	Title    string // the row's shapes, e.g. "B=4 T=128, 1+2 steps"
	Workload string // what the row runs
	Unit     string
	Opts     WorkerOptions
	Skip     string // a reason not to run it, found before any run
}

// quickDefaults are the settings -quick changes, for the flags the user did not set.
var quickDefaults = map[string]string{
	"runs": "2", "cls-batch": "2", "cls-seq": "64", "llama-batch": "2", "llama-seq": "64",
	"warmup": "1", "steps": "1", "prompts": "4",
}

// rowTitles describe each row's workload.
var rowTitles = map[string]string{
	"gpt2": "GPT2ForSequenceClassification, GPT-2-small shape (12 layers, hidden 768, 12 heads, vocab 50257), random " +
		"weights, dropout 0, LoRA r=8 on c_attn/c_proj/c_fc, score trained, LoRA+ AdamW, clip 1; training",
	"roberta": "RobertaForSequenceClassification, roberta-base shape (12 layers, hidden 768, 12 heads, vocab 50265), " +
		"random weights, dropout 0, LoRA r=8 on query/value, classifier trained, LoRA+ AdamW, clip 1; training",
	"smollm2": "LlamaForCausalLM, SmolLM2-135M-Instruct from its GGUF file (Q4_1 dequantized to fp32), LoRA r=8 on " +
		"q/k/v/o/gate/up/down, causal-LM loss on random ids, LoRA+ AdamW, clip 1; training",
	"mmlu": "SmolLM2-135M-Instruct (GGUF → fp32), no adapters, no grad: MMLU val prompts (first question of the " +
		"first subjects), one at a time, logits of \" A\"/\" B\"/\" C\"/\" D\" at the last token; evaluation",
}

// Plan turns the options into the rows to run. Unknown row names are an error.
func (o *options) Plan() ([]RowPlan, error) {
	var out []RowPlan
	for _, name := range strings.Split(o.rows, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		workload, ok := rowTitles[name]
		if !ok {
			return nil, fmt.Errorf("unknown row %q (rows: gpt2, roberta, smollm2, mmlu)", name)
		}
		p := RowPlan{Name: name, Workload: workload, Unit: "tokens",
			Opts: WorkerOptions{Row: name, Warmup: o.warmup, Steps: o.steps, Threads: o.threads, GGUF: o.gguf}}
		switch name {
		case "gpt2", "roberta":
			p.Opts.Batch, p.Opts.Seq = o.clsBatch, o.clsSeq
		case "smollm2":
			p.Opts.Batch, p.Opts.Seq = o.llamaBatch, o.llamaSeq
		case "mmlu":
			p.Unit = "prompts"
			p.Opts.Batch, p.Opts.Warmup, p.Opts.Steps = 1, 2, o.prompts
			p.Opts.Prompts = filepath.Join(o.outDir, "mmlu_prompts.json")
		}
		if name == "mmlu" {
			p.Title = fmt.Sprintf("%d prompts %d-shot, %d warm-up", o.prompts, o.shots, p.Opts.Warmup)
		} else {
			p.Title = fmt.Sprintf("B=%d T=%d, %d warm-up + %d steps", p.Opts.Batch, p.Opts.Seq, p.Opts.Warmup, p.Opts.Steps)
		}
		if (name == "smollm2" || name == "mmlu") && o.gguf == "" {
			p.Skip = "SmolLM2 GGUF file not found (pass -gguf)"
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no rows to run")
	}
	return out, nil
}

// Args returns the command-line flags that make a Go worker run o.
func (o WorkerOptions) Args() []string {
	a := []string{"-worker", o.Row, "-batch", fmt.Sprint(o.Batch), "-seq", fmt.Sprint(o.Seq),
		"-warmup", fmt.Sprint(o.Warmup), "-steps", fmt.Sprint(o.Steps), "-threads", fmt.Sprint(o.Threads)}
	if o.GGUF != "" {
		a = append(a, "-gguf", o.GGUF)
	}
	if o.Prompts != "" {
		a = append(a, "-prompt-file", o.Prompts)
	}
	return a
}

// PeerArgs returns the arguments of bench_peer.py for o.
func (o WorkerOptions) PeerArgs() []string {
	a := []string{o.Row, "--batch", fmt.Sprint(o.Batch), "--seq", fmt.Sprint(o.Seq),
		"--warmup", fmt.Sprint(o.Warmup), "--steps", fmt.Sprint(o.Steps), "--threads", fmt.Sprint(o.Threads)}
	if o.GGUF != "" {
		a = append(a, "--gguf", o.GGUF)
	}
	if o.Prompts != "" {
		a = append(a, "--prompts", o.Prompts)
	}
	return a
}
