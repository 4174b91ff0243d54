package main

import (
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/llama"
)

// llamaTargets are the seven linear projections of a Llama block, the paper's LoRA targets.
var llamaTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// llamaKind is a Llama sequence classifier (an HF directory with model_type "llama", or a GGUF file) with the
// score head of llama.LoadForSequenceClassification.
var llamaKind = modelKind{name: "llama", lr: 1e-4, targets: llamaTargets, padToModel: true,
	load: func(path string, o nn.ClassifierOptions) (nn.SequenceClassifier, error) {
		lo := llama.Options{DType: o.DType, Device: o.Device, NumLabels: o.NumLabels, Seed: o.Seed}
		if o.PadTokenID != nil {
			pad := int(*o.PadTokenID)
			lo.PadTokenID = &pad
		}
		return llama.LoadForSequenceClassification(path, lo)
	}}

// applyLlamaDefaults sets the paper's Llama MNLI settings (Appendix C.1.3) on every flag the command line left
// unset: r = 8, alpha = 16, dropout 0.1, constant schedule, 1 epoch, AdamW beta2 0.999 and eps 1e-6 (lr_A 1e-4
// and the seven projections come from llamaKind).
func (o *options) applyLlamaDefaults() {
	set := func(name string) bool { return o.set[name] }
	if !set("r") {
		o.rank = 8
	}
	if !set("alpha") {
		o.alpha = 16
	}
	if !set("dropout") {
		o.dropout = 0.1
	}
	if !set("schedule") {
		o.schedule = "constant"
	}
	if !set("epochs") {
		o.epochs = 1
	}
	if !set("beta2") {
		o.beta2 = 0.999
	}
	if !set("eps") {
		o.eps = 1e-6
	}
}
