package nn_test

import (
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestSetNumThreads(t *testing.T) {
	ts.MustOnes([]int64{1}, gotch.Float, gotch.CPU).MustDrop() // make sure libtorch is loaded
	prev := nn.NumThreads()
	require.Greater(t, prev, 0)
	require.NoError(t, nn.SetNumThreads(1))
	assert.Equal(t, 1, nn.NumThreads())
	require.NoError(t, nn.SetNumThreads(prev))
	assert.Equal(t, prev, nn.NumThreads())
	assert.Error(t, nn.SetNumThreads(0))
}
