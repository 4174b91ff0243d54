package loraplus_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// TestDropoutPlacementMatchesPEFT pins where LoRA dropout sits: on the adapter's input, B(A(dropout(x))), as
// PEFT's lora.Linear does. With libtorch seeded as torch.manual_seed seeds it, the training forward pass draws
// the same mask as PEFT only if the mask has x's shape and is drawn at the same point; dropout after A (a mask of
// shape [N, r]) or on the whole output gives other values.
func TestDropoutPlacementMatchesPEFT(t *testing.T) {
	runtime.LockOSThread()
	const seed = 1234
	path := filepath.Join(t.TempDir(), "dropout.safetensors")
	reftest.Run(t, "lora_dropout.py", path, "1234")
	ref, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)

	m := &struct {
		Proj *nn.Linear `name:"proj"`
	}{nn.NewLinear(ref["proj.weight"], ref["proj.bias"])}
	cfg := loraplus.DefaultConfig("proj")
	cfg.Rank, cfg.Alpha, cfg.Dropout = 3, 6, 0.5
	lm, err := loraplus.Wrap(m, cfg)
	require.NoError(t, err)
	nn.NoGrad(func() {
		for _, p := range lm.Params {
			p.Tensor.Copy_(ref[p.Name])
		}
	})
	x := ref["x"]
	var train, eval []float64
	nn.NoGrad(func() {
		require.NoError(t, nn.ManualSeed(seed))
		train = m.Proj.ForwardT(x, true).Float64Values(true)
		eval = m.Proj.ForwardT(x, false).Float64Values(true)
	})
	assert.InDeltaSlice(t, ref["y_eval"].Float64Values(), eval, 1e-5, "evaluation mode: no dropout")
	assert.InDeltaSlice(t, ref["y_train"].Float64Values(), train, 1e-5, "training mode: PEFT's dropout mask and scaling")
	assert.NotEqual(t, eval, train, "dropout is active in training mode")
}
