package nn_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
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
