package weights_test

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// pyFile is how scripts/reference/st_roundtrip.py describes a safetensors file.
type pyFile struct {
	Metadata map[string]string `json:"metadata"`
	Tensors  map[string]struct {
		DType  string   `json:"dtype"`
		Shape  []int64  `json:"shape"`
		Hex    string   `json:"hex"`
		Values []string `json:"values"`
	} `json:"tensors"`
}

// TestSafetensorsPython exchanges files with Python's safetensors (safetensors.torch.load_file and save_file) in
// both directions, in one run of the reference script.
func TestSafetensorsPython(t *testing.T) {
	dir := t.TempDir()
	goPath, pyPath := filepath.Join(dir, "go.safetensors"), filepath.Join(dir, "py.safetensors")
	cases := append(roundTripCases(), scalarCase)
	meta := map[string]string{"format": "pt", "note": "héllo \"quoted\" {json}", "empty": ""}
	var named []nn.NamedTensor
	for _, c := range cases {
		named = append(named, nn.NamedTensor{Name: c.name, Tensor: nntest.OfBytes(t, c.data, c.shape, c.dtype)})
	}
	require.NoError(t, weights.WriteSafetensors(goPath, named, meta))

	var out struct{ Loaded, Saved pyFile }
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "st_roundtrip.py", goPath, pyPath)), &out))

	t.Run("Go to Python", func(t *testing.T) {
		py := out.Loaded
		assert.Equal(t, meta, py.Metadata)
		require.Len(t, py.Tensors, len(cases))
		for _, c := range cases {
			p, ok := py.Tensors[c.name]
			require.True(t, ok, c.name)
			assert.Equal(t, c.st, p.DType, c.name)
			assert.Equal(t, c.shape, p.Shape, c.name)
			assert.Equal(t, hex.EncodeToString(c.data), p.Hex, c.name)
		}
	})

	t.Run("Python to Go", func(t *testing.T) {
		py := out.Saved
		require.Contains(t, py.Tensors, "scalar")
		dtypes := map[string]gotch.DType{"F32": gotch.Float, "F64": gotch.Double, "F16": gotch.Half, "BF16": gotch.BFloat16, "I64": gotch.Int64, "I32": gotch.Int}
		st, err := weights.OpenSafetensors(pyPath)
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, py.Metadata, st.Metadata)
		require.Len(t, st.Tensors, len(py.Tensors))
		for name, p := range py.Tensors {
			assert.Equal(t, p.DType, st.Tensors[name].DType, name)
			assert.Equal(t, p.Shape, st.Tensors[name].Shape, name)
			want, err := hex.DecodeString(p.Hex)
			require.NoError(t, err)
			b, err := st.Bytes(name)
			require.NoError(t, err)
			assert.Equal(t, len(want), len(b), name)
			if len(p.Shape) == 0 {
				continue // 0-d tensors: TestSafetensorsScalar
			}
			x, err := st.Tensor(name)
			require.NoError(t, err)
			assert.Equal(t, dtypes[p.DType], x.DType(), name)
			assert.Equal(t, p.Shape, x.MustSize(), name)
			assert.Equal(t, want, nntest.RawBytes(t, x), name)
			assertPyValues(t, name, p.Values, x)
		}
	})

	t.Run("Python 0-d scalar to Go", func(t *testing.T) {
		st, err := weights.OpenSafetensors(pyPath)
		require.NoError(t, err)
		defer st.Close()
		assertScalarReads(t, st, "scalar", -3.75)
	})
}

// assertPyValues compares Go values with Python's reprs: integers exactly, floats bit for bit (NaN as NaN).
func assertPyValues(t *testing.T, name string, py []string, x *ts.Tensor) {
	t.Helper()
	got := nntest.Values(x)
	require.Len(t, got, len(py), name)
	for i, s := range py {
		if x.DType() == gotch.Int64 || x.DType() == gotch.Int {
			w, err := strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
			assert.Equal(t, w, x.Int64Values()[i], "%s[%d]", name, i)
			continue
		}
		w, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		if math.IsNaN(w) {
			assert.True(t, math.IsNaN(got[i]), "%s[%d] = %v, want NaN", name, i, got[i])
		} else {
			assert.Equal(t, math.Float64bits(w), math.Float64bits(got[i]), "%s[%d] = %v, want %v", name, i, got[i], w)
		}
	}
}
