package main

import (
	"fmt"

	"github.com/loraplus-go/loraplus/llama"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// llamaTargets are the seven projections of a Llama block.
var llamaTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// smollm2Workload is SmolLM2 from its GGUF file with LoRA r=8 on the seven projections, trained with LoRA+ AdamW
// on the causal-LM loss (nn.LlamaForCausalLM.CausalLMLoss) of random ids [B, T].
func smollm2Workload(o WorkerOptions) (*workload, error) {
	m, err := llama.Load(o.GGUF, llama.Options{})
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
	ids := ts.MustRandint(v, []int64{b, t}, gotch.Int64, gotch.CPU)
	trainable := lm.Trainable()
	step := func() error {
		opt.ZeroGrad()
		loss := m.CausalLMLoss(ids, nil, ids, true)
		loss.MustBackward()
		loss.MustDrop()
		loraplus.ClipGradNorm(trainable, 1)
		return opt.Step(1)
	}
	return &workload{step: step, perStep: o.Batch * o.Seq}, nil
}

// mmluWorkload scores the prompts of a PromptFile with SmolLM2 (no adapters, no gradients), one prompt per step:
// the final hidden state of the last token (nn.LlamaModel.ForwardLast) through the output layer, then the four
// answer letters' logits.
func mmluWorkload(o WorkerOptions) (*workload, error) {
	pf, err := readPrompts(o.Prompts)
	if err != nil {
		return nil, err
	}
	m, err := llama.Load(o.GGUF, llama.Options{})
	if err != nil {
		return nil, err
	}
	out := m.Model.EmbedTokens.Weight
	if m.LMHead != nil {
		out = m.LMHead.Weight
	}
	var prompts []*ts.Tensor
	for i, p := range pf.Prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("%s: prompt %d is empty", o.Prompts, i)
		}
		t := ts.MustOfSlice(p).MustView([]int64{1, int64(len(p))}, true)
		if err := m.Model.CheckInput(t, nil); err != nil {
			return nil, fmt.Errorf("%s: prompt %d: %w", o.Prompts, i, err)
		}
		prompts = append(prompts, t)
	}
	letters := ts.MustOfSlice(pf.Choices)
	var answers []byte
	next := 0
	step := func() error {
		ids := prompts[next%len(prompts)]
		next++
		var scores []float64
		nn.NoGrad(func() {
			h := m.Model.ForwardLast(ids, nil, false) // [1, 1, hidden]
			last := h.MustSelect(1, 0, true)
			logits := ts.MustLinear(last, out, ts.None)
			last.MustDrop()
			sel := logits.MustIndexSelect(1, letters, true)
			scores = sel.Float64Values(true)
		})
		best := 0
		for i, s := range scores {
			if s > scores[best] {
				best = i
			}
		}
		answers = append(answers, "ABCD"[best])
		return nil
	}
	return &workload{step: step, perStep: 1, answers: func() string {
		if len(answers) < o.Warmup {
			return ""
		}
		return string(answers[o.Warmup:])
	}}, nil
}
