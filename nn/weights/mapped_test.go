package weights_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// mapModel is a model of two Linear layers for LoadState.
type mapModel struct {
	Proj *nn.Linear `name:"proj"`
	Out  *nn.Linear `name:"out"`
}

func newMapModel(dt gotch.DType) *mapModel {
	return &mapModel{
		Proj: nn.NewLinear(ts.MustZeros([]int64{3, 2}, dt, gotch.CPU), ts.MustZeros([]int64{3}, dt, gotch.CPU)),
		Out:  nn.NewLinear(ts.MustZeros([]int64{1, 3}, dt, gotch.CPU), nil),
	}
}

// LoadState gives CPU tensors of the stored dtype the memory-mapped file's storage: their values are the file's,
// they outlive the closed file, writing to them leaves the file unchanged, and tensors of another dtype are
// converted from the mapping.
func TestLoadStateMapsSafetensors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	vals := map[string][]float32{"proj.weight": {1, 2, 3, 4, 5, 6}, "proj.bias": {-1, 0.5, 7}, "out.weight": {0.25, -8, 3}}
	shapes := map[string][]int64{"proj.weight": {3, 2}, "proj.bias": {3}, "out.weight": {1, 3}}
	var named []nn.NamedTensor
	for n, v := range vals {
		named = append(named, nn.NamedTensor{Name: n, Tensor: nntest.F32(shapes[n], v)})
	}
	require.NoError(t, weights.WriteSafetensors(path, named, nil))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	for _, dt := range []gotch.DType{gotch.Float, gotch.Double} {
		t.Run(dt.String(), func(t *testing.T) {
			m := newMapModel(dt)
			st, err := weights.OpenSafetensors(path)
			require.NoError(t, err)
			require.NoError(t, weights.LoadState(m, st, weights.LoadOptions{}))
			require.NoError(t, st.Close())
			for n, p := range map[string]*ts.Tensor{"proj.weight": m.Proj.Weight, "proj.bias": m.Proj.Bias, "out.weight": m.Out.Weight} {
				assert.Equal(t, shapes[n], p.MustSize(), n)
				want := make([]float64, len(vals[n]))
				for i, v := range vals[n] {
					want[i] = float64(v)
				}
				assert.Equal(t, want, nntest.Values(p), n)
			}
			// A tensor of the stored dtype is the file's pages, read when used: a write into the file (which users
			// must not do while a model maps it) shows through; a converted one is a copy.
			off := int64(8+binary.LittleEndian.Uint64(before[:8])) + st.Tensors["out.weight"].DataOffsets[0]
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt(binary.LittleEndian.AppendUint32(nil, math.Float32bits(42)), off)
			require.NoError(t, err)
			want := map[gotch.DType]float64{gotch.Float: 42, gotch.Double: 0.25}[dt]
			assert.Equal(t, want, nntest.Values(m.Out.Weight)[0], "mapped (fp32) or copied (fp64)")
			_, err = f.WriteAt(before[off:off+4], off)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			m.Proj.Weight.MustAddScalar_(ts.FloatScalar(100)) // as merging an adapter writes the base weight
			assert.Equal(t, 101.0, nntest.Values(m.Proj.Weight)[0])
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, before, after, "the file is unchanged")
			again := newMapModel(dt)
			require.NoError(t, weights.LoadState(again, mustOpen(t, path), weights.LoadOptions{}))
			assert.Equal(t, 1.0, nntest.Values(again.Proj.Weight)[0], "a second load sees the file, not the first model's write")
		})
	}
}

func mustOpen(t *testing.T, path string) *weights.Safetensors {
	st, err := weights.OpenSafetensors(path)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// A tensor whose bytes are not aligned to its element size cannot be mapped; LoadState reads it instead.
func TestLoadStateReadsUnalignedTensors(t *testing.T) {
	header := `{"flag":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"out.weight":{"dtype":"F32","shape":[1,3],"data_offsets":[1,13]},` +
		`"proj.bias":{"dtype":"F32","shape":[3],"data_offsets":[13,25]},"proj.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[25,49]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)))
	b = append(b, header...)
	b = append(b, 7)
	for _, v := range []float32{0.25, -8, 3, -1, 0.5, 7, 1, 2, 3, 4, 5, 6} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	path := filepath.Join(t.TempDir(), "unaligned.safetensors")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	st := mustOpen(t, path)
	_, err := st.Mapped("proj.weight")
	require.Error(t, err, "an F32 tensor at byte offset 1 of the data")
	m := newMapModel(gotch.Float)
	require.NoError(t, weights.LoadState(m, st, weights.LoadOptions{Ignore: []string{"flag"}}))
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, nntest.Values(m.Proj.Weight))
	assert.Equal(t, []float64{0.25, -8, 3}, nntest.Values(m.Out.Weight))
}

// WriteSafetensors writes a view (transposed, or a slice at a storage offset) in row-major order of its own shape.
func TestWriteSafetensorsViews(t *testing.T) {
	x := nntest.F32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	views := []nn.NamedTensor{
		{Name: "t", Tensor: x.MustT(false)},                  // [3, 2]: 1 4 2 5 3 6
		{Name: "row1", Tensor: x.MustNarrow(0, 1, 1, false)}, // [1, 3] at offset 3: 4 5 6
		{Name: "col2", Tensor: x.MustNarrow(1, 2, 1, false)}, // [2, 1], strided: 3 6
		{Name: "bf16", Tensor: x.MustTotype(gotch.BFloat16, false)},
	}
	path := filepath.Join(t.TempDir(), "views.safetensors")
	require.NoError(t, weights.WriteSafetensors(path, views, nil))
	got, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	for name, want := range map[string][]float64{"t": {1, 4, 2, 5, 3, 6}, "row1": {4, 5, 6}, "col2": {3, 6}, "bf16": {1, 2, 3, 4, 5, 6}} {
		assert.Equal(t, want, nntest.Values(got[name]), name)
	}
	assert.Equal(t, []int64{3, 2}, got["t"].MustSize())
	assert.Equal(t, gotch.BFloat16, got["bf16"].DType())
}
