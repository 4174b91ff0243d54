package weights

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

func TestWriteShardedSafetensors(t *testing.T) {
	mk := func(n int64) *ts.Tensor { return ts.MustArange(ts.IntScalar(n), gotch.Float, gotch.CPU) }
	tensors := []nn.NamedTensor{{Name: "a", Tensor: mk(10)}, {Name: "b", Tensor: mk(30)}, {Name: "c", Tensor: mk(5)}, {Name: "d", Tensor: mk(20)}}
	cases := []struct {
		name     string
		maxShard int64
		files    []string
		shardOf  map[string]string
	}{
		{"fits", 1 << 20, []string{"model.safetensors"}, nil},
		{"sharded", 100, []string{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
			"model-00003-of-00003.safetensors", SafetensorsIndexFile},
			map[string]string{"a": "model-00001-of-00003.safetensors", "b": "model-00002-of-00003.safetensors",
				"c": "model-00003-of-00003.safetensors", "d": "model-00003-of-00003.safetensors"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files, err := WriteShardedSafetensors(dir, tensors, c.maxShard)
			require.NoError(t, err)
			require.Equal(t, c.files, files)
			if c.shardOf != nil {
				var idx struct {
					Metadata struct {
						TotalSize int64 `json:"total_size"`
					}
					WeightMap map[string]string `json:"weight_map"`
				}
				b, err := os.ReadFile(filepath.Join(dir, SafetensorsIndexFile))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(b, &idx))
				require.EqualValues(t, 4*65, idx.Metadata.TotalSize)
				require.Equal(t, c.shardOf, idx.WeightMap)
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, ConfigFile), []byte("{}"), 0o644))
			d, err := OpenDir(dir)
			require.NoError(t, err)
			defer d.Close()
			require.Equal(t, []string{"a", "b", "c", "d"}, d.Names())
			for _, nt := range tensors {
				got, err := d.Tensor(nt.Name)
				require.NoError(t, err)
				require.True(t, got.MustEqual(nt.Tensor, false), nt.Name)
			}
		})
	}
	_, err := WriteShardedSafetensors(t.TempDir(), tensors, 0)
	require.ErrorContains(t, err, "weights: shard size")
}

func TestWriteGGUF(t *testing.T) {
	w := gguf.NewWriter()
	require.NoError(t, w.Add("general.architecture", gguf.Scalar("llama")))
	require.NoError(t, w.AddTensor("x", gguf.TypeF32, []int{2}, gguf.EncodeF32([]float32{1, 2})))
	path := filepath.Join(t.TempDir(), "m.gguf")
	require.NoError(t, WriteGGUF(path, w))
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	v, err := f.Float32("x")
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2}, v)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1) // no temporary file left
}
