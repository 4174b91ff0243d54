package weights_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawSafetensors lays out a safetensors file by hand: the 8-byte length, the header and the data.
func rawSafetensors(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestSafetensorsMalformed(t *testing.T) {
	valid := rawSafetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2))
	for _, tc := range []struct {
		name   string
		file   []byte
		tensor string   // the tensor the error must name, if any
		want   []string // more substrings of the error
	}{
		{name: "empty file", file: nil, want: []string{"header length"}},
		{name: "shorter than the length prefix", file: []byte{1, 2, 3}, want: []string{"header length"}},
		{name: "header length larger than the file", file: func() []byte {
			b := append([]byte(nil), valid...)
			binary.LittleEndian.PutUint64(b, uint64(len(b)))
			return b
		}(), want: []string{"header length"}},
		{name: "huge header length", file: func() []byte {
			b := append([]byte(nil), valid...)
			binary.LittleEndian.PutUint64(b, 1<<63+5)
			return b
		}(), want: []string{"header length"}},
		{name: "truncated data", file: valid[:len(valid)-3], tensor: "w", want: []string{"data offsets"}},
		{name: "invalid JSON", file: rawSafetensors(`{"w":{"dtype":"F32",`, nil), want: []string{"JSON"}},
		{name: "header is a JSON array", file: rawSafetensors(`[1,2]`, nil), want: []string{"JSON"}},
		{name: "tensor entry is not an object", file: rawSafetensors(`{"w":5}`, nil), tensor: "w"},
		{name: "unknown dtype", file: rawSafetensors(`{"q":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}),
			tensor: "q", want: []string{"F8_E4M3"}},
		{name: "data_offsets past the end", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"data offsets"}},
		{name: "data_offsets reversed", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"data offsets"}},
		{name: "negative data_offsets", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"data offsets"}},
		{name: "data_offsets do not match the shape", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2, 3)),
			tensor: "w", want: []string{"data offsets"}},
		{name: "data_offsets do not match the dtype", file: rawSafetensors(`{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"data offsets"}},
		{name: "negative dim", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"shape"}},
		{name: "overflowing shape", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2)),
			tensor: "w", want: []string{"shape"}},
		{name: "fractional dim", file: rawSafetensors(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, nntest.LE32F(1, 2)),
			tensor: "w"},
		{name: "metadata is not a string map", file: rawSafetensors(`{"__metadata__":{"n":1}}`, nil), want: []string{"__metadata__"}},
		{name: "second tensor bad", file: rawSafetensors(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}`, nntest.LE32F(1, 2)),
			tensor: "b", want: []string{"data offsets"}},
		// several bad entries: the first by name is reported, every time (the header is a JSON object, unordered)
		{name: "several tensors bad", file: rawSafetensors(`{"z":{"dtype":"F32","shape":[9],"data_offsets":[0,36]},"c":{"dtype":"F32","shape":[9],"data_offsets":[0,36]},"m":{"dtype":"F32","shape":[9],"data_offsets":[0,36]}}`, nntest.LE32F(1, 2)),
			tensor: "c", want: []string{"data offsets"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.safetensors")
			require.NoError(t, os.WriteFile(path, tc.file, 0o644))
			st, err := weights.OpenSafetensors(path)
			require.Error(t, err)
			assert.Nil(t, st)
			assert.ErrorContains(t, err, path)
			if tc.tensor != "" {
				assert.ErrorContains(t, err, `"`+tc.tensor+`"`)
			}
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			_, _, rerr := weights.ReadSafetensors(path)
			require.Error(t, rerr)
			assert.Equal(t, err.Error(), rerr.Error())
		})
	}
}

func TestSafetensorsMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.safetensors")
	_, err := weights.OpenSafetensors(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, path)
	_, _, err = weights.ReadSafetensors(path)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// The header may be followed by bytes no tensor uses, and tensors may be stored in any order: both are valid.
func TestSafetensorsReaderLeniency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ok.safetensors")
	hdr := `{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"__metadata__":null}    `
	require.NoError(t, os.WriteFile(path, rawSafetensors(hdr, append(nntest.LE32I(-9), nntest.LE32F(2.5)...)), 0o644))
	got, meta, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	assert.Empty(t, meta)
	assert.Equal(t, []float64{-9}, nntest.Values(got["a"]))
	assert.Equal(t, []float64{2.5}, nntest.Values(got["b"]))
}
