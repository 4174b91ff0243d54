package loraplus

import (
	"fmt"
	"strings"
)

// Group names, in the order the official code creates them.
const (
	GroupA         = "A"
	GroupEmbedding = "embedding"
	GroupB         = "B"
	GroupBNoDecay  = "B_no_decay"
	// GroupMagnitude holds the DoRA magnitudes when OptimConfig.LRMagnitude sets their own rate; otherwise they
	// train in group B, where the official rule puts every 1-D tensor.
	GroupMagnitude = "dora_magnitude"
)

// Group is a set of tensors sharing a learning rate and weight decay. LR is the rate before the schedule factor.
type Group struct {
	Name        string
	LR          float64
	WeightDecay float64
	Params      []*Param
}

// Assign returns the LoRA+ group of one trainable tensor, by the rule of the official code (and of PEFT ≥ 0.21):
// embedding adapters → embedding; names containing "lora_B" and every 1-D tensor → B, or B_no_decay for biases
// and norm weights; everything else → A. A DoRA magnitude (1-D) is in B by this rule; BuildGroups moves it to
// GroupMagnitude only when OptimConfig.LRMagnitude is set.
func Assign(p *Param) string {
	switch {
	case p.Kind == KindEmbeddingA || p.Kind == KindEmbeddingB:
		return GroupEmbedding
	case strings.Contains(p.Name, "lora_B") || p.Tensor.Dim() == 1:
		if p.NoDecay {
			return GroupBNoDecay
		}
		return GroupB
	}
	return GroupA
}

// BuildGroups splits params into the LoRA+ groups with their learning rates and weight decays. Empty groups are
// left out, so the result has between one and four groups, or five with DoRA magnitudes under their own rate
// (c.LRMagnitude > 0: group dora_magnitude, last, with the A group's weight decay). A tensor listed twice is an
// error.
func BuildGroups(params []*Param, c OptimConfig) ([]Group, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("nothing to train: no trainable tensors")
	}
	all := []Group{
		{Name: GroupA, LR: c.LR, WeightDecay: c.WeightDecay},
		{Name: GroupEmbedding, LR: c.LREmbedding, WeightDecay: c.WeightDecay},
		{Name: GroupB, LR: c.LR * c.Ratio, WeightDecay: c.WeightDecay},
		{Name: GroupBNoDecay, LR: c.LR * c.Ratio, WeightDecay: 0},
		{Name: GroupMagnitude, LR: c.LRMagnitude, WeightDecay: c.WeightDecay},
	}
	index := map[string]int{GroupA: 0, GroupEmbedding: 1, GroupB: 2, GroupBNoDecay: 3, GroupMagnitude: 4}
	seen := map[string]bool{}
	for _, p := range params {
		if seen[p.Name] {
			return nil, fmt.Errorf("tensor %q is listed twice", p.Name)
		}
		seen[p.Name] = true
		name := Assign(p)
		if p.Kind == KindMagnitude && c.LRMagnitude > 0 {
			name = GroupMagnitude
		}
		g := &all[index[name]]
		g.Params = append(g.Params, p)
	}
	var out []Group
	for _, g := range all {
		if len(g.Params) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}
