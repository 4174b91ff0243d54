package loraplus_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/memtest"
)

// A long training run keeps resident memory flat: after warm-up it may not grow by more than 5%. This catches
// per-op leaks in the bindings (gotch's malloc(0) per op and the handle of every in-place op, both patched by
// set-up) and tensors kept alive across steps. The number of live tensors may not change at all: every step frees
// what it makes without waiting for the garbage collector.
// The DoRA case runs with dropout, so both of its forward paths are covered.
func TestTrainingMemoryStaysFlat(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name string
		dora bool
	}{{"LoRA", false}, {"DoRA with dropout", true}} {
		t.Run(tc.name, func(t *testing.T) { trainingMemoryStaysFlat(t, tc.dora) })
	}
}

func trainingMemoryStaysFlat(t *testing.T, dora bool) {
	net := newToyNet(12)
	var m *loraplus.Model
	if dora {
		m = wrapDoRA(t, net, doraConfig(4, 8, false, 0.1))
	} else {
		m = wrapToy(t, net, loraplus.DefaultConfig(toyTargets...))
	}
	addToyExtras(t, net, m)
	oc := loraplus.DefaultOptimConfig(1e-3)
	oc.WeightDecay = 0.01
	opt, err := m.NewAdamW(oc)
	require.NoError(t, err)
	ids, target := toyData(12)
	sched := loraplus.Schedule{Kind: "cosine", Warmup: 10, Total: 700}
	step := func(i int) {
		opt.ZeroGrad()
		y := net.forward(ids, true)
		loss := mse(y, target)
		y.MustDrop()
		loss.MustBackward()
		loraplus.ClipGradNorm(m.Trainable(), 1)
		require.NoError(t, opt.Step(sched.Factor(i)))
		loss.MustDrop()
	}
	for i := 0; i < 100; i++ {
		step(i)
	}
	live := memtest.LiveTensors(t)
	before := memtest.RSS(t)
	for i := 100; i < 700; i++ {
		step(i)
		if i == 100 || i == 699 {
			require.Equal(t, live, memtest.LiveTensors(t), "live tensors after step %d", i)
		}
	}
	after := memtest.RSS(t)
	growth := float64(after-before) / float64(before)
	t.Logf("RSS after warm-up %.1f MB, after 600 more steps %.1f MB (%+.2f%%)", float64(before)/1e6, float64(after)/1e6, 100*growth)
	require.Less(t, growth, 0.05, "resident memory grew by %.1f%% over 600 steps", 100*growth)
}
