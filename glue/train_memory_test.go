package glue

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/memtest"
)

// TestTrainerFreesItsTensors checks that training, evaluating and checkpointing free every tensor they make as
// they go: the number of live tensors is the same after every step, without help from the garbage collector.
func TestTrainerFreesItsTensors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := tinyConfig(t, t.TempDir())
	c.Epochs, c.EvalEvery, c.SaveEvery, c.Keep = 5, 10, 10, 1
	c.LoRA.Dropout = 0.1
	var live []int
	c.OnStep = func(int, float64) { live = append(live, memtest.LiveTensors(t)) }
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, tinyData(t, 64, 48))
	require.NoError(t, err)
	_, err = tr.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, live, 40)
	for i, n := range live {
		require.Equal(t, live[0], n, "live tensors after step %d (after step 1: %d)", i+1, live[0])
	}
}
