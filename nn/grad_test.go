package nn_test

import (
	"runtime"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// recordsGrad reports whether an op on a leaf that requires grad records autograd history on this thread.
func recordsGrad(w *ts.Tensor) bool {
	y := w.MustMulScalar(ts.FloatScalar(2), false)
	defer y.MustDrop()
	return y.MustRequiresGrad()
}

func TestNoGradNests(t *testing.T) {
	runtime.LockOSThread() // grad mode is per OS thread
	defer runtime.UnlockOSThread()
	w := ts.MustOnes([]int64{3}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
	require.True(t, recordsGrad(w), "grad mode is on by default")

	var trace []bool
	nn.NoGrad(func() {
		trace = append(trace, recordsGrad(w))
		nn.NoGrad(func() {
			trace = append(trace, recordsGrad(w))
			nn.NoGrad(func() { trace = append(trace, recordsGrad(w)) })
			trace = append(trace, recordsGrad(w)) // the innermost return does not re-enable grad
		})
		trace = append(trace, recordsGrad(w)) // nor does the middle one
	})
	assert.Equal(t, []bool{false, false, false, false, false}, trace)
	assert.True(t, recordsGrad(w), "on again after the outermost NoGrad")

	// Sequential calls each switch grad off and on.
	for range 3 {
		nn.NoGrad(func() { assert.False(t, recordsGrad(w)) })
		assert.True(t, recordsGrad(w))
	}
}

func TestNoGradRestoresAfterPanic(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	w := ts.MustOnes([]int64{2}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
	assert.PanicsWithValue(t, "boom", func() {
		nn.NoGrad(func() {
			nn.NoGrad(func() { panic("boom") })
		})
	})
	assert.True(t, recordsGrad(w), "grad mode back on after a panic unwound both NoGrad calls")
	nn.NoGrad(func() { assert.False(t, recordsGrad(w), "the depth count was unwound too") })
	assert.True(t, recordsGrad(w))
}

// A Linear's forward under NoGrad builds no graph, even through its adapter.
func TestNoGradForward(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l := nn.NewLinear(nntest.F32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}), nil)
	require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 1, Alpha: 1}, nntest.NewRNG(1)))
	x := nntest.F32([]int64{1, 3}, []float32{1, 1, 1})
	nn.NoGrad(func() { assert.False(t, l.ForwardT(x, false).MustRequiresGrad()) })
	assert.True(t, l.ForwardT(x, false).MustRequiresGrad())
}
