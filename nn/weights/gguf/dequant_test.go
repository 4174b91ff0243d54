package gguf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type typesManifest struct {
	Tensors []struct {
		Name  string `json:"name"`
		Type  int    `json:"type"`
		Shape []int  `json:"shape"`
		Ref   string `json:"ref"`
	} `json:"tensors"`
	GGMLChecked []string `json:"ggml_checked"`
}

func loadTypesManifest(t *testing.T) (string, typesManifest) {
	dir := fixtureDir(t)
	var m typesManifest
	b, err := os.ReadFile(filepath.Join(dir, "types.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.Tensors)
	t.Logf("gguf-py references also matched ggml's dequantize_row_* for %v", m.GGMLChecked)
	return dir, m
}

// TestDequantizeMatchesGGUFPy compares every supported type against
// gguf-py's dequantization of the same file, for GGUF v3 and (by patching
// the version field) v2.
func TestDequantizeMatchesGGUFPy(t *testing.T) {
	dir, m := loadTypesManifest(t)
	raw, err := os.ReadFile(filepath.Join(dir, "types.gguf"))
	require.NoError(t, err)
	v2 := bytes.Clone(raw)
	binary.LittleEndian.PutUint32(v2[4:], 2)

	for _, version := range []uint32{3, 2} {
		data := raw
		if version == 2 {
			data = v2
		}
		f, err := NewFile(bytes.NewReader(data), int64(len(data)), "types.gguf")
		require.NoError(t, err)
		require.Equal(t, version, f.Version)
		for _, tc := range m.Tensors {
			t.Run(fmt.Sprintf("v%d/%s", version, tc.Name), func(t *testing.T) {
				ti, err := f.Tensor(tc.Name)
				require.NoError(t, err)
				assert.Equal(t, GGMLType(tc.Type), ti.Type)
				assert.Equal(t, tc.Shape, ti.Shape())
				got, err := f.Float32(tc.Name)
				require.NoError(t, err)
				want := readF32(t, filepath.Join(dir, tc.Ref))
				requireSameFloats(t, want, got, 1e-6, tc.Name)

				into := make([]float32, len(want))
				require.NoError(t, f.Float32Into(tc.Name, into))
				requireSameFloats(t, want, into, 0, tc.Name+" (Float32Into)")
			})
		}
	}
}

// TestRawHalfBytes checks that ReadRaw gives F16/BF16 data as stored and
// that decoding it with HalfToFloat32/BF16ToFloat32 gives the reference.
func TestRawHalfBytes(t *testing.T) {
	dir, _ := loadTypesManifest(t)
	f, err := Open(filepath.Join(dir, "types.gguf"))
	require.NoError(t, err)
	defer f.Close()
	file, err := os.ReadFile(filepath.Join(dir, "types.gguf"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		decode func(uint16) float32
	}{
		{"f16", HalfToFloat32},
		{"bf16", BF16ToFloat32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti, err := f.Tensor(tc.name)
			require.NoError(t, err)
			raw, err := f.ReadRaw(tc.name)
			require.NoError(t, err)
			require.Equal(t, file[ti.FileOffset:ti.FileOffset+ti.NumBytes()], raw)
			require.EqualValues(t, 2*ti.NumElements(), len(raw))
			got := make([]float32, len(raw)/2)
			for i := range got {
				got[i] = tc.decode(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			requireSameFloats(t, readF32(t, filepath.Join(dir, "ref", tc.name+".f32")), got, 0, tc.name)

			sr, err := f.TensorReader(tc.name)
			require.NoError(t, err)
			require.EqualValues(t, len(raw), sr.Size())
		})
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0001, 5.960464477539063e-08},
		{0x03ff, 6.097555160522461e-05},
		{0x0400, 6.103515625e-05},
		{0x3555, 0.333251953125},
	} {
		assert.Equal(t, tc.want, HalfToFloat32(tc.bits), "%#04x", tc.bits)
	}
	assert.True(t, HalfToFloat32(0x7c00) > 3e38)
	assert.True(t, HalfToFloat32(0xfc00) < -3e38)
	nan := HalfToFloat32(0x7e00)
	assert.True(t, nan != nan)
	assert.Equal(t, uint32(0x80000000), f32bits(HalfToFloat32(0x8000)))
	assert.Equal(t, float32(1), BF16ToFloat32(0x3f80))
}

func TestDequantizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  GGMLType
		src  int
		dst  int
		want string
	}{
		{"partial block", TypeQ4_0, 17, 32, "not a whole number of 18-byte blocks"},
		{"short destination", TypeQ4_K, 144, 255, "holds 256 values, destination has 255"},
		{"unsupported type", TypeIQ2_XXS, 66, 256, "dequantization of IQ2_XXS is not supported"},
		{"unknown type", GGMLType(99), 4, 1, "GGMLType(99)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Dequantize(tc.typ, make([]byte, tc.src), make([]float32, tc.dst))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTypeTraits(t *testing.T) {
	for _, tc := range []struct {
		typ     GGMLType
		name    string
		block   int
		size    int
		dequant bool
	}{
		{TypeF32, "F32", 1, 4, true},
		{TypeBF16, "BF16", 1, 2, true},
		{TypeQ4_1, "Q4_1", 32, 20, true},
		{TypeQ6_K, "Q6_K", 256, 210, true},
		{TypeIQ4_XS, "IQ4_XS", 256, 136, false},
		{TypeMXFP4, "MXFP4", 32, 17, false},
	} {
		assert.Equal(t, tc.name, tc.typ.String())
		assert.Equal(t, tc.block, tc.typ.BlockSize(), tc.name)
		assert.Equal(t, tc.size, tc.typ.TypeSize(), tc.name)
		assert.Equal(t, tc.dequant, tc.typ.CanDequantize(), tc.name)
	}
	n, err := TypeQ8_0.RowBytes(64)
	require.NoError(t, err)
	assert.Equal(t, 68, n)
	_, err = TypeQ8_0.RowBytes(33)
	require.ErrorContains(t, err, "not a multiple of the Q8_0 block size 32")
	assert.False(t, GGMLType(4).Known())
}

// TestFloat32Chunked checks the chunked, parallel tensor dequantization
// against one Dequantize call over the whole raw data, for a tensor that
// spans several chunks with a partial last chunk.
func TestFloat32Chunked(t *testing.T) {
	const rows, cols = 555, 4096 // Q4_1: 1.42 MB in 2 chunks; F16: 4.5 MB in 5
	for _, typ := range []GGMLType{TypeQ4_1, TypeF16} {
		t.Run(typ.String(), func(t *testing.T) {
			rowBytes, err := typ.RowBytes(cols)
			require.NoError(t, err)
			raw := make([]byte, rows*rowBytes)
			for i := range raw {
				raw[i] = byte(i*7 + i>>9)
			}
			if typ == TypeQ4_1 {
				for b := 0; b < len(raw); b += 20 {
					copy(raw[b:], []byte{0x00, 0x2c, 0x00, 0xac}) // d = 1/16, m = -1/16
				}
			}
			f := mustParse(t, buildGGUF(3, nil, []testTensor{{name: "w", typ: typ, dims: []uint64{cols, rows}, data: raw}}))
			want := make([]float32, rows*cols)
			require.NoError(t, Dequantize(typ, raw, want))
			got, err := f.Float32("w")
			require.NoError(t, err)
			requireSameFloats(t, want, got, 0, "chunked")
		})
	}
}
