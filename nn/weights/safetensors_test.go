package weights_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// stCase is one tensor of the round-trip set: its raw little-endian data, shape and dtype.
type stCase struct {
	name  string
	dtype gotch.DType
	st    string // safetensors dtype name
	shape []int64
	data  []byte
}

// scalarCase is a 0-d tensor.
var scalarCase = stCase{"scalar", gotch.Float, "F32", []int64{}, nntest.LE32F(-3.75)}

// roundTripCases covers every dtype WriteSafetensors supports, special float values and an empty tensor.
// fp16/bf16 data are given as bit patterns. The 0-d scalarCase is tested on its own (TestSafetensorsScalar).
func roundTripCases() []stCase {
	return []stCase{
		{"f32", gotch.Float, "F32", []int64{2, 3}, nntest.LE32F(1.5, -2.25, 3, 1e-30, float32(math.Inf(1)), float32(math.Copysign(0, -1)))},
		{"f64", gotch.Double, "F64", []int64{3}, nntest.LE64F(0.1, -1e300, math.SmallestNonzeroFloat64)},
		// 0, -0, 1, -2.5, 65504 (max), +inf, NaN, 2^-24 (smallest subnormal)
		{"f16", gotch.Half, "F16", []int64{2, 4}, nntest.LE16(0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x7c00, 0x7e00, 0x0001)},
		// 0, -0, 1, -2.5, 3.3895e38 (max), -inf, NaN, 2^-133 (subnormal)
		{"bf16", gotch.BFloat16, "BF16", []int64{4, 2}, nntest.LE16(0x0000, 0x8000, 0x3f80, 0xc020, 0x7f7f, 0xff80, 0x7fc0, 0x0001)},
		{"i64", gotch.Int64, "I64", []int64{2, 2}, nntest.LE64I(math.MinInt64, math.MaxInt64, 0, -7)},
		{"i32", gotch.Int, "I32", []int64{3}, nntest.LE32I(math.MinInt32, math.MaxInt32, 42)},
		{"empty", gotch.Float, "F32", []int64{0, 4}, nil},
		{"h.0.attn.c_attn.weight", gotch.Float, "F32", []int64{2, 1, 3}, nntest.LE32F(1, 2, 3, 4, 5, 6)},
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	cases := roundTripCases()
	path := filepath.Join(t.TempDir(), "rt.safetensors")
	meta := map[string]string{"format": "pt", "note": "héllo \"quoted\" {json}", "empty": ""}
	var named []nn.NamedTensor
	for _, c := range cases {
		named = append(named, nn.NamedTensor{Name: c.name, Tensor: nntest.OfBytes(t, c.data, c.shape, c.dtype)})
	}
	require.NoError(t, weights.WriteSafetensors(path, named, meta))

	t.Run("ReadSafetensors", func(t *testing.T) {
		got, gotMeta, err := weights.ReadSafetensors(path)
		require.NoError(t, err)
		assert.Equal(t, meta, gotMeta)
		require.Len(t, got, len(cases))
		for _, c := range cases {
			x, ok := got[c.name]
			require.True(t, ok, c.name)
			assert.Equal(t, c.dtype, x.DType(), c.name)
			assert.Equal(t, c.shape, x.MustSize(), c.name)
			want := c.data
			if want == nil {
				want = []byte{}
			}
			assert.Equal(t, want, nntest.RawBytes(t, x), c.name)
		}
	})

	t.Run("OpenSafetensors", func(t *testing.T) {
		st, err := weights.OpenSafetensors(path)
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, path, st.Path)
		assert.Equal(t, meta, st.Metadata)
		var names []string
		for _, c := range cases {
			names = append(names, c.name)
		}
		assert.ElementsMatch(t, names, st.Names())
		assert.IsIncreasing(t, st.Names())
		var off int64
		for _, c := range cases { // stored in the order given, back to back
			info := st.Tensors[c.name]
			assert.Equal(t, c.st, info.DType, c.name)
			assert.Equal(t, c.shape, info.Shape, c.name)
			assert.Equal(t, [2]int64{off, off + int64(len(c.data))}, info.DataOffsets, c.name)
			off += int64(len(c.data))

			b, err := st.Bytes(c.name)
			require.NoError(t, err)
			assert.Equal(t, len(c.data), len(b), c.name)
			if len(c.data) > 0 {
				assert.Equal(t, c.data, b, c.name)
			}
			x, err := st.Tensor(c.name)
			require.NoError(t, err)
			assert.Equal(t, c.shape, x.MustSize(), c.name)
			assert.Equal(t, c.dtype, x.DType(), c.name)
		}
		fi, err := os.Stat(path)
		require.NoError(t, err)
		n := binary.LittleEndian.Uint64(readHead(t, path, 8))
		assert.Equal(t, fi.Size(), 8+int64(n)+off, "file is length, header and data, nothing else")

		_, err = st.Bytes("missing")
		require.ErrorContains(t, err, path)
		require.ErrorContains(t, err, `"missing"`)
		_, err = st.Tensor("missing")
		require.ErrorContains(t, err, `"missing"`)
	})
}

func TestSafetensorsValuesAndLayout(t *testing.T) {
	dir := t.TempDir()
	w := nntest.F32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	grad := nntest.F32([]int64{2}, []float32{7, 8}).MustSetRequiresGrad(true, true)
	for _, tc := range []struct {
		name  string
		in    *ts.Tensor
		shape []int64
		want  []float64
	}{
		{"transposed view is written in logical order", w.MustT(false), []int64{3, 2}, []float64{1, 4, 2, 5, 3, 6}},
		{"strided slice", w.MustNarrow(1, 1, 2, false), []int64{2, 2}, []float64{2, 3, 5, 6}},
		{"leaf that requires grad", grad, []int64{2}, []float64{7, 8}},
		{"bf16 from fp32", w.MustTotype(gotch.BFloat16, false), []int64{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors")
			require.NoError(t, weights.WriteSafetensors(path, []nn.NamedTensor{{Name: "x", Tensor: tc.in}}, nil))
			got, meta, err := weights.ReadSafetensors(path)
			require.NoError(t, err)
			assert.Empty(t, meta)
			assert.Equal(t, tc.shape, got["x"].MustSize())
			assert.Equal(t, tc.want, nntest.Values(got["x"]))
			assert.False(t, got["x"].MustRequiresGrad())
		})
	}
}

// readHead returns the first n bytes of a file.
func readHead(t *testing.T, path string, n int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(b), n)
	return b[:n]
}

func TestSafetensorsHeaderPadding(t *testing.T) {
	dir := t.TempDir()
	// Names of every length modulo 8, with and without metadata, so the unpadded header takes every length mod 8.
	for i := range 16 {
		name := "t" + strings.Repeat("x", i)
		var meta map[string]string
		if i >= 8 {
			meta = map[string]string{"k": "v"}
		}
		path := filepath.Join(dir, name+".safetensors")
		require.NoError(t, weights.WriteSafetensors(path, []nn.NamedTensor{{Name: name, Tensor: nntest.F32([]int64{1}, []float32{float32(i)})}}, meta))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		n := binary.LittleEndian.Uint64(b[:8])
		require.Zero(t, n%8, "header length %d of %s is not a multiple of 8", n, name)
		hdr := b[8 : 8+n]
		trimmed := strings.TrimRight(string(hdr), " ")
		assert.Less(t, len(hdr)-len(trimmed), 8, "padding is shorter than 8 bytes")
		assert.True(t, strings.HasPrefix(trimmed, "{") && strings.HasSuffix(trimmed, "}"), "header %q", hdr)
		var parsed map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(hdr, &parsed))
		assert.Contains(t, parsed, name)
		if meta == nil {
			assert.NotContains(t, parsed, "__metadata__", "no metadata, no __metadata__ entry")
		} else {
			assert.Contains(t, parsed, "__metadata__")
		}
		assert.Equal(t, nntest.LE32F(float32(i)), b[8+n:], "data follows the padded header")
	}
}

func TestWriteSafetensorsErrors(t *testing.T) {
	x := nntest.F32([]int64{1}, []float32{1})
	for _, tc := range []struct {
		name    string
		tensors []nn.NamedTensor
		want    []string
	}{
		{"unsupported dtype", []nn.NamedTensor{{Name: "ok", Tensor: x}, {Name: "flags", Tensor: ts.MustOnes([]int64{2}, gotch.Bool, gotch.CPU)}}, []string{`"flags"`, "unsupported dtype"}},
		{"int8", []nn.NamedTensor{{Name: "q", Tensor: ts.MustOnes([]int64{2}, gotch.Int8, gotch.CPU)}}, []string{`"q"`, "unsupported dtype"}},
		{"duplicate name", []nn.NamedTensor{{Name: "a", Tensor: x}, {Name: "a", Tensor: x}}, []string{`"a"`, "duplicate"}},
		{"empty name", []nn.NamedTensor{{Name: "", Tensor: x}}, []string{`""`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			old := []byte("previous contents")
			require.NoError(t, os.WriteFile(path, old, 0o644))

			err := weights.WriteSafetensors(path, tc.tensors, map[string]string{"k": "v"})
			require.Error(t, err)
			assert.ErrorContains(t, err, path)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, old, got, "the existing file is left intact")
			assertOnlyFile(t, dir, "model.safetensors")
		})
	}
}

// "__metadata__" is the header's reserved key: a tensor may not take that name, with or without metadata, or the
// file cannot be read back.
func TestWriteSafetensorsReservedName(t *testing.T) {
	for _, meta := range []map[string]string{nil, {"k": "v"}} {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		err := weights.WriteSafetensors(path, []nn.NamedTensor{{Name: "__metadata__", Tensor: nntest.F32([]int64{1}, []float32{1})}}, meta)
		require.Error(t, err, "metadata %v", meta)
		assert.ErrorContains(t, err, "__metadata__")
		_, serr := os.Stat(path)
		assert.ErrorIs(t, serr, os.ErrNotExist, "no file written")
	}
}

func TestWriteSafetensorsReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "adapter.safetensors")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, weights.WriteSafetensors(path, []nn.NamedTensor{{Name: "w", Tensor: nntest.F32([]int64{2}, []float32{1, 2})}}, nil))
	got, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2}, nntest.Values(got["w"]))
	assertOnlyFile(t, dir, "adapter.safetensors")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "readable by all, as os.WriteFile would leave it")

	err = weights.WriteSafetensors(filepath.Join(dir, "no-such-dir", "x.safetensors"), []nn.NamedTensor{{Name: "w", Tensor: got["w"]}}, nil)
	require.Error(t, err)
	assertOnlyFile(t, dir, "adapter.safetensors")
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	for _, data := range []string{"first", "second, longer contents", ""} {
		require.NoError(t, weights.WriteFileAtomic(path, []byte(data)))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, data, string(got))
		assertOnlyFile(t, dir, "config.json")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	}
	require.Error(t, weights.WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x")))
	assertOnlyFile(t, dir, "config.json")
}

// assertOnlyFile checks that dir holds exactly one entry, name (no temporary file was left behind).
func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{name}, names)
}
