package loraplus_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// trainToy runs steps of AdamW on the toy model and returns the final values of every trainable tensor.
func trainToy(t *testing.T, m *loraplus.Model, net *toyNet, opt *loraplus.AdamW, from, to int, sched loraplus.Schedule) map[string][]float64 {
	ids, target := toyData(21)
	for step := from; step < to; step++ {
		opt.ZeroGrad()
		y := net.forward(ids, true)
		loss := mse(y, target)
		y.MustDrop()
		loss.MustBackward()
		loss.MustDrop()
		require.NoError(t, opt.Step(sched.Factor(step)))
	}
	out := map[string][]float64{}
	for _, p := range m.Params {
		out[p.Name] = p.Tensor.MustDetach(false).Float64Values(true)
	}
	return out
}

// With ratio 1 (and the embedding at the same lr) LoRA+ is exactly plain LoRA: one AdamW group at one lr.
func TestRatioOneIsPlainLoRA(t *testing.T) {
	lockThread(t)
	sched := loraplus.Schedule{Kind: "linear", Total: 15}
	oc := loraplus.DefaultOptimConfig(5e-3)
	oc.Ratio, oc.LREmbedding = 1, 5e-3

	netA := newToyNet(4)
	mA := wrapToy(t, netA, loraplus.DefaultConfig(toyTargets...))
	optA, err := mA.NewAdamW(oc)
	require.NoError(t, err)
	require.Greater(t, len(optA.Groups()), 1)
	lora := trainToy(t, mA, netA, optA, 0, 15, sched)

	netB := newToyNet(4)
	mB := wrapToy(t, netB, loraplus.DefaultConfig(toyTargets...))
	single, err := loraplus.NewAdamW([]loraplus.Group{{Name: "all", LR: 5e-3, Params: mB.Params}}, oc.Beta1, oc.Beta2, oc.Eps)
	require.NoError(t, err)
	plain := trainToy(t, mB, netB, single, 0, 15, sched)

	for name, v := range plain {
		assert.Equal(t, v, lora[name], "%s differs between ratio 1 and a single group", name)
	}
}

// Saving the optimizer state and the adapter mid-run and resuming gives the same tensors as an uninterrupted run.
func TestResumeFromSavedState(t *testing.T) {
	lockThread(t)
	sched := loraplus.Schedule{Kind: "cosine", Warmup: 2, Total: 12}
	oc := loraplus.DefaultOptimConfig(4e-3)

	netA := newToyNet(8)
	mA := wrapToy(t, netA, loraplus.DefaultConfig(toyTargets...))
	optA, err := mA.NewAdamW(oc)
	require.NoError(t, err)
	straight := trainToy(t, mA, netA, optA, 0, 12, sched)

	dir := t.TempDir()
	netB := newToyNet(8)
	mB := wrapToy(t, netB, loraplus.DefaultConfig(toyTargets...))
	optB, err := mB.NewAdamW(oc)
	require.NoError(t, err)
	trainToy(t, mB, netB, optB, 0, 5, sched)
	require.NoError(t, mB.SaveAdapter(filepath.Join(dir, "adapter"), loraplus.AdapterOptions{Optim: &oc}))
	state, meta := optB.State()
	require.NoError(t, weights.WriteSafetensors(filepath.Join(dir, "optimizer.safetensors"), state, meta))

	netC := newToyNet(8)
	mC, err := loraplus.LoadAdapter(netC, filepath.Join(dir, "adapter"))
	require.NoError(t, err)
	optC, err := mC.NewAdamW(oc)
	require.NoError(t, err)
	saved, savedMeta, err := weights.ReadSafetensors(filepath.Join(dir, "optimizer.safetensors"))
	require.NoError(t, err)
	require.NoError(t, optC.LoadState(saved, savedMeta))
	assert.Equal(t, 5, optC.Steps())
	resumed := trainToy(t, mC, netC, optC, 5, 12, sched)
	for name, v := range straight {
		assert.InDeltaSlice(t, v, resumed[name], 1e-6, name)
	}

	// A resume with other groups is refused with the tensor named.
	oc2 := oc
	oc2.Ratio = 8
	optD, err := mC.NewAdamW(oc2)
	require.NoError(t, err)
	err = optD.LoadState(saved, savedMeta)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lora_B.weight")
}

func TestClipGradNorm(t *testing.T) {
	lockThread(t)
	net := newToyNet(9)
	m := wrapToy(t, net, loraplus.DefaultConfig(toyTargets...))
	ids, target := toyData(9)
	y := net.forward(ids, true)
	loss := mse(y, target)
	loss.MustBackward()
	norm := func() float64 {
		s := 0.0
		for _, p := range m.Trainable() {
			g := p.MustGrad(false)
			n := g.MustNorm(true).Float64Values(true)[0]
			s += n * n
		}
		return s
	}
	before := norm()
	got := loraplus.ClipGradNorm(m.Trainable(), 0.1)
	assert.InDelta(t, before, got*got, 1e-4*before)
	assert.InDelta(t, 0.01, norm(), 1e-6)
	// Below the limit nothing changes.
	assert.InDelta(t, 0.1, loraplus.ClipGradNorm(m.Trainable(), 10), 1e-6)
	assert.InDelta(t, 0.01, norm(), 1e-6)
	_ = ts.None
}
