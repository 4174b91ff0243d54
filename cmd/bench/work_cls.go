package main

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/roberta"
)

// randomize draws every weight matrix of model from N(0, 0.02²) in place, as transformers initialises a new
// model (norm weights and biases keep the ones and zeros they were built with).
func randomize(model any) error {
	params, err := nn.Parameters(model)
	if err != nil {
		return err
	}
	for _, p := range params {
		if p.Tensor.Dim() >= 2 {
			p.Tensor.MustNormal_(0, 0.02)
		}
	}
	return nil
}

// classifierWorkload wraps model with LoRA r=8 on targets, trains its head with the adapters and returns a LoRA+
// AdamW step on a random batch [B, T] of ids below maxID with two classes: forward, cross-entropy, backward,
// gradient clipping at 1, update.
func classifierWorkload(model nn.SequenceClassifier, targets []string, o WorkerOptions, maxID int64, dev gotch.Device) (*workload, error) {
	if err := randomize(model); err != nil {
		return nil, err
	}
	lm, err := loraplus.Wrap(model, loraplus.DefaultConfig(targets...))
	if err != nil {
		return nil, err
	}
	for _, h := range model.Head() {
		if err := lm.AddTrainable(h.Name, h.Tensor); err != nil {
			return nil, err
		}
	}
	opt, err := lm.NewAdamW(loraplus.DefaultOptimConfig(1e-4))
	if err != nil {
		return nil, err
	}
	b, t := int64(o.Batch), int64(o.Seq)
	ids := ts.MustRandintLow(3, maxID, []int64{b, t}, gotch.Int64, dev)
	mask := ts.MustOnes([]int64{b, t}, gotch.Int64, dev)
	labels := ts.MustRandint(2, []int64{b}, gotch.Int64, dev)
	trainable := lm.Trainable()
	grp, err := cli.JoinDist("cpu") // a -dp worker: its group; nil outside one
	if err != nil {
		return nil, err
	}
	step := func() error {
		opt.ZeroGrad()
		logits := model.Logits(ids, mask, true)
		loss := logits.MustCrossEntropyLoss(labels, ts.None, ts.ReductionMean, -100, 0, true)
		loss.MustBackward()
		loss.MustDrop()
		if grp != nil { // -dp: the ranks' gradients averaged, as train.Session sums its weighted shares
			if err := grp.AllReduceMean(grads(trainable)); err != nil {
				return err
			}
		}
		return update(opt, trainable, dev)
	}
	return &workload{step: step, perStep: o.Batch * o.Seq}, nil
}

// gpt2Workload is GPT2ForSequenceClassification of the GPT-2-small shape (12 layers, hidden 768, 12 heads, vocab
// 50257), dropout 0, LoRA on c_attn, c_proj and c_fc, score trained.
func gpt2Workload(o WorkerOptions) (*workload, error) {
	cfg := gpt2.DefaultConfig()
	cfg.ResidPdrop, cfg.EmbdPdrop, cfg.AttnPdrop = 0, 0, 0
	pad := int64(50256)
	cfg.PadTokenID = &pad
	dev, dt, err := devDType(o)
	if err != nil {
		return nil, err
	}
	m, err := gpt2.New(cfg, 2, dt, dev)
	if err != nil {
		return nil, err
	}
	return classifierWorkload(m, []string{"c_attn", "c_proj", "c_fc"}, o, 50000, dev)
}

// robertaWorkload is RobertaForSequenceClassification of the roberta-base shape, dropout 0, LoRA on query and
// value, classifier trained.
func robertaWorkload(o WorkerOptions) (*workload, error) {
	cfg := roberta.DefaultConfig()
	cfg.MaxPositionEmbeddings, cfg.TypeVocabSize = 514, 1
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
	dev, dt, err := devDType(o)
	if err != nil {
		return nil, err
	}
	m, err := roberta.New(cfg, 2, dt, dev)
	if err != nil {
		return nil, err
	}
	return classifierWorkload(m, []string{"query", "value"}, o, 50000, dev)
}
