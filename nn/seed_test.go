package nn_test

import (
	"encoding/json"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

func TestManualSeedRepeatsDropout(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustOnes([]int64{256}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	mask := func(seed uint64) []float64 {
		require.NoError(t, nn.ManualSeed(seed))
		return ts.MustDropout(x, 0.5, true).Float64Values(true)
	}
	a, b, c := mask(7), mask(7), mask(8)
	assert.Equal(t, a, b, "same seed, same mask")
	assert.NotEqual(t, a, c, "another seed, another mask")
	assert.NotEqual(t, nn.MixSeed(1, 0), nn.MixSeed(1, 1))
	assert.NotEqual(t, nn.MixSeed(1, 0), nn.MixSeed(2, 0))
}

// TestManualSeedMatchesTorch: after ManualSeed(s), libtorch draws what Python draws after torch.manual_seed(s).
func TestManualSeedMatchesTorch(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const script = `import json, torch
out = {}
for s in (0, 7, 123456789):
    torch.manual_seed(s)
    out[str(s)] = torch.rand(16).tolist() + torch.randn(16).tolist()
print(json.dumps(out))`
	py := exec.Command(reftest.Python(t), "-c", script)
	raw, err := py.Output()
	require.NoError(t, err)
	var want map[string][]float64
	require.NoError(t, json.Unmarshal(raw, &want))
	for _, s := range []uint64{0, 7, 123456789} {
		require.NoError(t, nn.ManualSeed(s))
		u := ts.MustRand([]int64{16}, gotch.Float, gotch.CPU)
		n := ts.MustRandn([]int64{16}, gotch.Float, gotch.CPU)
		got := append(u.Float64Values(true), n.Float64Values(true)...)
		u.MustDrop()
		n.MustDrop()
		assert.InDeltaSlice(t, want[strconv.FormatUint(s, 10)], got, 1e-7, "seed %d", s)
	}
}
