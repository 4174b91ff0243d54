package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validTestFile is a small well-formed file used as the base of the
// corruption tests.
func validTestFile() []byte {
	return buildGGUF(3, []testKV{
		{"general.architecture", "llama"},
		{"a.u32", uint32(7)},
		{"a.strs", testArr{ValueString, []any{"x", "yy"}}},
		{"a.nested", testArr{ValueArray, []any{testArr{ValueInt32, []any{int32(1)}}}}},
	}, []testTensor{
		{name: "w", typ: TypeF32, dims: []uint64{4, 2}, data: make([]byte, 32)},
		{name: "q", typ: TypeQ8_0, dims: []uint64{32}, data: make([]byte, 34)},
	})
}

func parseErr(b []byte) error {
	_, err := NewFile(bytes.NewReader(b), int64(len(b)), "test.gguf")
	return err
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// header returns magic, version 3 and the two counts.
func header(nTensors, nKV uint64) []byte {
	return cat([]byte(Magic), le32(3), le64(nTensors), le64(nKV))
}

func key(s string) []byte { return cat(le64(uint64(len(s))), []byte(s)) }

func TestMalformedFiles(t *testing.T) {
	valid := validTestFile()
	patch := func(off int, b []byte) []byte {
		c := bytes.Clone(valid)
		copy(c[off:], b)
		return c
	}
	f32 := func(name string, dims []uint64, data int) testTensor {
		return testTensor{name: name, typ: TypeF32, dims: dims, data: make([]byte, data)}
	}
	one := func(ti testTensor) []byte { return buildGGUF(3, nil, []testTensor{ti}) }
	depth := func(n int) any {
		v := testArr{ValueInt32, []any{int32(1)}}
		for range n {
			v = testArr{ValueArray, []any{v}}
		}
		return v
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated header: file is 0 bytes"},
		{"bad magic", patch(0, []byte("GGUX")), `bad magic "GGUX"`},
		{"version 1", patch(4, le32(1)), "GGUF version 1 is not supported"},
		{"big endian", patch(4, []byte{0, 0, 0, 3}), "big-endian GGUF files are not supported"},
		{"version 7", patch(4, le32(7)), "unsupported GGUF version 7"},
		{"truncated counts", valid[:12], "truncated header"},
		{"huge tensor count", patch(8, le64(1<<40)), "tensor count 1099511627776 exceeds the limit"},
		{"huge kv count", patch(16, le64(1<<40)), "metadata count 1099511627776 exceeds the limit"},
		{"counts beyond file", patch(16, le64(1000)), "1000 metadata entries and 2 tensors cannot fit"},
		{"huge key length", cat(header(0, 1), le64(1<<62), make([]byte, 8)), "metadata entry 0 key length 4611686018427387904 exceeds the limit"},
		{"key beyond file", cat(header(0, 1), le64(100), make([]byte, 20)), "truncated file: metadata entry 0 key length 100 exceeds the 20 bytes left"},
		{"unknown value type", cat(header(0, 1), key("k"), le32(13), make([]byte, 8)), `metadata key "k" has unknown value type id 13`},
		{"unknown element type", cat(header(0, 1), key("k"), le32(9), le32(42), le64(1), make([]byte, 8)), `metadata key "k" has unknown array element type id 42`},
		{"huge array", cat(header(0, 1), key("k"), le32(9), le32(4), le64(1<<40)), "array length 1099511627776 exceeds the limit"},
		{"array beyond file", cat(header(0, 1), key("k"), le32(9), le32(10), le64(1<<20), make([]byte, 16)), "array of 1048576 uint64 elements needs at least 8388608 bytes"},
		{"string array beyond file", cat(header(0, 1), key("k"), le32(9), le32(8), le64(3), le64(1), []byte("a"), le64(50), make([]byte, 8)), `truncated file: metadata key "k"[1] length 50 exceeds`},
		{"deep nesting", buildGGUF(3, []testKV{{"k", depth(MaxArrayDepth)}}, nil), "nests arrays deeper than 8 levels"},
		{"truncated scalar", cat(header(0, 1), key("k"), le32(10), make([]byte, 3)), `truncated file: metadata key "k" needs 8 bytes but only 3 remain`},
		{"duplicate key", buildGGUF(3, []testKV{{"a", uint8(1)}, {"a", uint8(2)}}, nil), `duplicate metadata key "a"`},
		{"alignment type", buildGGUF(3, []testKV{{"general.alignment", uint64(32)}}, nil), `"general.alignment" is uint64, want uint32`},
		{"alignment not power of two", buildGGUF(3, []testKV{{"general.alignment", uint32(48)}}, nil), "general.alignment 48 is not a power of two"},
		{"alignment zero", buildGGUF(3, []testKV{{"general.alignment", uint32(0)}}, nil), "general.alignment 0 is not a power of two"},
		{"unknown tensor type", one(testTensor{name: "w", typ: 99, dims: []uint64{4}, data: make([]byte, 16)}), `unknown type id 99 for tensor "w"`},
		{"retired tensor type", one(testTensor{name: "w", typ: 4, dims: []uint64{32}, data: make([]byte, 32)}), `unknown type id 4 for tensor "w"`},
		{"too many dims", one(f32("w", []uint64{1, 1, 1, 1, 1}, 4)), `tensor "w" has 5 dimensions, more than the 4 ggml supports`},
		{"row not whole blocks", one(testTensor{name: "w", typ: TypeQ4_0, dims: []uint64{33, 2}, data: make([]byte, 64)}), `tensor "w": shape/size mismatch: row length ne[0]=33 is not a multiple of the Q4_0 block size 32`},
		{"element count overflow", one(f32("w", []uint64{1 << 40, 1 << 40}, 4)), `tensor "w" has too many elements`},
		{"dimension above int64", one(f32("w", []uint64{1 << 63}, 4)), `tensor "w" dimension 0 is 9223372036854775808, above the int64 range`},
		{"data out of range", one(f32("w", []uint64{16}, 8)), `tensor "w"'s data out of range: offset 0 + 64 bytes`},
		{"offset out of range", one(testTensor{name: "w", typ: TypeF32, dims: []uint64{1}, data: make([]byte, 4), offset: u64p(1 << 63)}), `tensor "w"'s data out of range`},
		{"offset overflows", one(testTensor{name: "w", typ: TypeF32, dims: []uint64{1 << 60}, offset: u64p(1<<64 - 32)}), `tensor "w"'s data out of range`},
		{"misaligned offset", one(testTensor{name: "w", typ: TypeF32, dims: []uint64{1}, data: make([]byte, 4), offset: u64p(4)}), `tensor "w" data offset 4 is not a multiple of the alignment 32`},
		{"duplicate tensor", buildGGUF(3, nil, []testTensor{f32("w", []uint64{1}, 4), f32("w", []uint64{1}, 4)}), `duplicate tensor name "w"`},
		{"truncated tensor name", cat(header(1, 0), le64(30), []byte("abc"), make([]byte, 21)), "tensor 0 name length 30 exceeds the 24 bytes left"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseErr(tc.data)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "test.gguf")
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
		})
	}
}

// TestEveryPrefixFails parses every truncation of a valid file: all must
// fail with an error, none may panic.
func TestEveryPrefixFails(t *testing.T) {
	valid := validTestFile()
	require.NoError(t, parseErr(valid))
	// The last tensor ends before the final alignment padding, so a few
	// trailing bytes can go without losing data.
	f := mustParse(t, valid)
	last := f.Tensors[len(f.Tensors)-1]
	end := int(last.FileOffset + last.NumBytes())
	for n := range end {
		require.Error(t, parseErr(valid[:n]), "prefix of %d bytes", n)
	}
}

func TestValidTestFile(t *testing.T) {
	f := mustParse(t, validTestFile())
	assert.Equal(t, uint32(3), f.Version)
	assert.EqualValues(t, 32, f.Alignment)
	assert.Len(t, f.KVs, 4)
	ti, err := f.Tensor("w")
	require.NoError(t, err)
	assert.Equal(t, []uint64{4, 2}, ti.Dims)
	assert.Equal(t, []int{2, 4}, ti.Shape())
	assert.EqualValues(t, 8, ti.NumElements())
	assert.EqualValues(t, 32, ti.NumBytes())
	assert.Zero(t, ti.FileOffset%32)
	x, err := f.Float32("q")
	require.NoError(t, err)
	assert.Len(t, x, 32)

	_, err = f.Tensor("nope")
	require.True(t, errors.Is(err, ErrNotFound))
	_, err = f.Float32("nope")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, f.Float32Into("w", make([]float32, 3)), `tensor "w" has 8 elements, destination has 3`)
	require.ErrorContains(t, f.ReadRawInto("w", make([]byte, 3)), `tensor "w" has 32 bytes, destination has 3`)
}

func TestUnsupportedDequantization(t *testing.T) {
	f := mustParse(t, buildGGUF(3, nil, []testTensor{
		{name: "iq", typ: TypeIQ2_XXS, dims: []uint64{256}, data: make([]byte, 66)},
	}))
	_, err := f.Float32("iq")
	require.ErrorContains(t, err, `tensor "iq": dequantization of IQ2_XXS is not supported`)
	raw, err := f.ReadRaw("iq")
	require.NoError(t, err)
	require.Len(t, raw, 66)
}

// shrinkingReader serves the header but fails reads past limit, like a file
// truncated after it was opened.
type shrinkingReader struct {
	data  []byte
	limit int64
}

func (r shrinkingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.limit {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:min(int64(len(r.data)), r.limit)])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestTensorReadErrors(t *testing.T) {
	data := validTestFile()
	f, err := NewFile(bytes.NewReader(data), int64(len(data)), "test.gguf")
	require.NoError(t, err)
	ti, err := f.Tensor("w")
	require.NoError(t, err)
	f.r = shrinkingReader{data: data, limit: ti.FileOffset + 8}
	_, err = f.Float32("w")
	require.ErrorContains(t, err, `reading tensor "w" data`)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, err = f.ReadRaw("w")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing.gguf"))
	require.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "bad.gguf")
	require.NoError(t, os.WriteFile(path, []byte("GGML\x03\x00\x00\x00"), 0o644))
	_, err = Open(path)
	require.ErrorContains(t, err, path+": offset 0: bad magic")

	path = filepath.Join(t.TempDir(), "ok.gguf")
	require.NoError(t, os.WriteFile(path, validTestFile(), 0o644))
	f, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
}
