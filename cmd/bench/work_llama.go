package main

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/loraplus"
)

// llamaTargets are the seven projections of a Llama block.
var llamaTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// smollm2Workload is SmolLM2 from its GGUF file with LoRA r=8 on the seven projections, trained with LoRA+ AdamW
// on the causal-LM loss (nnllama.ForCausalLM.CausalLMLoss) of random ids [B, T].
func smollm2Workload(o WorkerOptions) (*workload, error) {
	dev, dt, err := devDType(o)
	if err != nil {
		return nil, err
	}
	m, err := nnllama.Load(o.GGUF, nnllama.Options{DType: dt, Device: dev})
	if err != nil {
		return nil, err
	}
	lm, err := loraplus.Wrap(m, loraplus.DefaultConfig(llamaTargets...))
	if err != nil {
		return nil, err
	}
	opt, err := lm.NewAdamW(loraplus.DefaultOptimConfig(1e-4))
	if err != nil {
		return nil, err
	}
	b, t := int64(o.Batch), int64(o.Seq)
	if t < 2 {
		return nil, fmt.Errorf("smollm2: sequence length %d is too short for a next-token loss", t)
	}
	v := int64(m.Model.Config.VocabSize)
	ids := ts.MustRandint(v, []int64{b, t}, gotch.Int64, dev)
	trainable := lm.Trainable()
	step := func() error {
		opt.ZeroGrad()
		loss := m.CausalLMLoss(ids, nil, ids, true)
		loss.MustBackward()
		loss.MustDrop()
		return update(opt, trainable, dev)
	}
	return &workload{step: step, perStep: o.Batch * o.Seq}, nil
}

// mmluWorkload scores the prompts of a PromptFile with SmolLM2 (no adapters, no gradients), one prompt per step,
// through mmlu.ChoiceLogits: the four answer letters' next-token logits at the prompt's last token.
func mmluWorkload(o WorkerOptions) (*workload, error) {
	pf, err := readPrompts(o.Prompts)
	if err != nil {
		return nil, err
	}
	dev, dt, err := devDType(o)
	if err != nil {
		return nil, err
	}
	m, err := nnllama.Load(o.GGUF, nnllama.Options{DType: dt, Device: dev})
	if err != nil {
		return nil, err
	}
	if len(pf.Choices) != 4 {
		return nil, fmt.Errorf("%s: %d answer choices, want 4", o.Prompts, len(pf.Choices))
	}
	var choices [4]int
	for i, c := range pf.Choices {
		choices[i] = int(c)
	}
	prompts := make([][]int, len(pf.Prompts))
	for i, p := range pf.Prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("%s: prompt %d is empty", o.Prompts, i)
		}
		prompts[i] = make([]int, len(p))
		for j, id := range p {
			prompts[i][j] = int(id)
		}
	}
	var answers []byte
	next := 0
	step := func() error {
		p := prompts[next%len(prompts)]
		next++
		logits, err := mmlu.ChoiceLogits(m, [][]int{p}, choices, mmlu.BatchOptions{Batch: 1})
		if err != nil {
			return fmt.Errorf("%s: prompt %d: %w", o.Prompts, (next-1)%len(prompts), err)
		}
		best, err := mmlu.Predict(logits[0][:])
		if err != nil {
			return err
		}
		answers = append(answers, mmlu.Letters[best][0])
		return nil
	}
	return &workload{step: step, perStep: 1, answers: func() string {
		if len(answers) < o.Warmup {
			return ""
		}
		return string(answers[o.Warmup:])
	}}, nil
}
