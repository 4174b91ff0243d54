package weights_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"
)

// TestSafetensorsScalar round-trips a 0-d tensor. Writing records shape [] and 4 data bytes; reading must give
// back a 0-d tensor, as an error at worst, never a panic.
func TestSafetensorsScalar(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scalar.safetensors")
	x := nntest.OfBytes(t, scalarCase.data, scalarCase.shape, scalarCase.dtype)
	require.Equal(t, []int64{}, x.MustSize())
	require.NoError(t, weights.WriteSafetensors(path, []nn.NamedTensor{{Name: "scalar", Tensor: x}}, nil))

	st, err := weights.OpenSafetensors(path)
	require.NoError(t, err)
	defer st.Close()
	info := st.Tensors["scalar"]
	assert.Equal(t, "F32", info.DType)
	assert.Equal(t, []int64{}, info.Shape)
	assert.Equal(t, [2]int64{0, 4}, info.DataOffsets)
	b, err := st.Bytes("scalar")
	require.NoError(t, err)
	assert.Equal(t, scalarCase.data, b)

	t.Run("Tensor", func(t *testing.T) { assertScalarReads(t, st, "scalar", -3.75) })

	t.Run("ReadSafetensors", func(t *testing.T) {
		var got map[string]*ts.Tensor
		err := catchPanic(func() error {
			var err error
			got, _, err = weights.ReadSafetensors(path)
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, []int64{}, got["scalar"].MustSize())
		assert.Equal(t, []float64{-3.75}, nntest.Values(got["scalar"]))
	})
}

// assertScalarReads checks that st.Tensor(name) returns a 0-d tensor holding want.
func assertScalarReads(t *testing.T, st *weights.Safetensors, name string, want float64) {
	t.Helper()
	var x *ts.Tensor
	err := catchPanic(func() error {
		var err error
		x, err = st.Tensor(name)
		return err
	})
	require.NoError(t, err, "Safetensors.Tensor(%q) of a 0-d tensor", name)
	assert.Equal(t, []int64{}, x.MustSize())
	assert.Equal(t, []float64{want}, nntest.Values(x))
}

// catchPanic runs fn and turns a panic into an error, so that one failing case does not end the test binary.
func catchPanic(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}
