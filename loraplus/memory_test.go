package loraplus_test

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/stretchr/testify/require"
)

// rssBytes returns the resident set size of this process after a full collection, so that tensors waiting for
// their finalizers are freed first.
func rssBytes(t *testing.T) int64 {
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // let finalizers free the C tensors
	}
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	pages, err := strconv.ParseInt(strings.Fields(string(data))[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// A long training run keeps resident memory flat: after warm-up it may not grow by more than 5%. This catches
// per-op leaks in the bindings (gotch's malloc(0) per op and the handle of every in-place op, both patched by
// set-up) and tensors kept alive across steps.
func TestTrainingMemoryStaysFlat(t *testing.T) {
	lockThread(t)
	net := newToyNet(12)
	m := wrapToy(t, net, loraplus.DefaultConfig(toyTargets...))
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
	before := rssBytes(t)
	for i := 100; i < 700; i++ {
		step(i)
	}
	after := rssBytes(t)
	growth := float64(after-before) / float64(before)
	t.Logf("RSS after warm-up %.1f MB, after 600 more steps %.1f MB (%+.2f%%)", float64(before)/1e6, float64(after)/1e6, 100*growth)
	require.Less(t, growth, 0.05, "resident memory grew by %.1f%% over 600 steps", 100*growth)
}
