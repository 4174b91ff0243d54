package loraplus_test

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// TestZeroGradDropsGradientsAsTorch: after ZeroGrad a tensor that receives no gradient is left alone by the next
// Step, as torch's AdamW leaves it after zero_grad() (which sets gradients to None): b trains at step 1, then
// only a gets gradients, and b must keep its value through steps 2 and 3 (zeroed gradients would decay it and
// move it along its first moment).
func TestZeroGradDropsGradientsAsTorch(t *testing.T) {
	runtime.LockOSThread()
	var ref []struct {
		A, B []float64
	}
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "adamw_none_grad.py")), &ref))
	a := ts.MustOfSlice([]float32{1, 2, 3}).MustSetRequiresGrad(true, true)
	b := ts.MustOfSlice([]float32{0.5, -1, 2}).MustSetRequiresGrad(true, true)
	opt, err := loraplus.NewAdamW([]loraplus.Group{{Name: "A", LR: 0.1, WeightDecay: 0.1,
		Params: []*loraplus.Param{{Name: "a", Tensor: a}, {Name: "b", Tensor: b}}}}, 0.9, 0.999, 1e-8)
	require.NoError(t, err)
	for step, r := range ref {
		require.NoError(t, opt.ZeroGrad())
		var loss *ts.Tensor
		if step == 0 {
			loss = a.MustMul(b, false).MustSum(a.DType(), true)
		} else {
			loss = a.MustMul(a, false).MustSum(a.DType(), true)
			g := b.MustGrad(false)
			assert.False(t, g.MustDefined(), "step %d: b has no gradient after ZeroGrad", step+1)
			g.MustDrop()
		}
		loss.MustBackward()
		loss.MustDrop()
		require.NoError(t, opt.Step(1))
		assert.InDeltaSlice(t, r.A, a.Float64Values(), 1e-6, "a after step %d", step+1)
		assert.InDeltaSlice(t, r.B, b.Float64Values(), 1e-6, "b after step %d", step+1)
	}
}
