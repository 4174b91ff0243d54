package instruct_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/loraplus-go/loraplus/llama/instruct"
)

// TestDefaultConfigIsThePapers pins the defaults to the LoRA+ paper's flan-v2 settings (Section 5.2, Appendix
// C.1.4): LoRA r = 64, alpha = 16, dropout 0.05 on the seven projections, AdamW with eps 1e-6, a constant
// schedule, one epoch, sequences of 512 tokens.
func TestDefaultConfigIsThePapers(t *testing.T) {
	c := instruct.DefaultConfig()
	assert.Equal(t, []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, c.LoRA.Targets)
	assert.Equal(t, []any{64, 16.0, 0.05}, []any{c.LoRA.Rank, c.LoRA.Alpha, c.LoRA.Dropout}, "rank, alpha, dropout")
	assert.Equal(t, []float64{0.9, 0.999, 1e-6, 0}, []float64{c.Optim.Beta1, c.Optim.Beta2, c.Optim.Eps, c.Optim.WeightDecay},
		"AdamW betas, eps, weight decay")
	assert.Equal(t, []any{"constant", 0, 1, 512}, []any{c.Schedule, c.Warmup, c.Epochs, c.MaxLen})
	assert.Equal(t, 16.0, c.Optim.Ratio)
}
