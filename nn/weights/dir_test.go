package weights_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenHFDirErrors(t *testing.T) {
	nntest.Lock(t)
	x := nntest.F32([]int64{2}, []float32{1, 2})
	for _, tc := range []struct {
		name  string
		files map[string]string // file → JSON content ("" for a safetensors file holding "a")
		want  []string
	}{
		{"no checkpoint", map[string]string{"config.json": "{}"}, []string{"no checkpoint", weights.SafetensorsFile}},
		{"bad index", map[string]string{weights.SafetensorsIndexFile: "{"}, []string{weights.SafetensorsIndexFile}},
		{"empty index", map[string]string{weights.SafetensorsIndexFile: `{"weight_map": {}}`}, []string{"empty or missing weight_map"}},
		{"missing shard", map[string]string{weights.SafetensorsIndexFile: `{"weight_map": {"a": "s1.safetensors"}}`},
			[]string{weights.SafetensorsIndexFile, "s1.safetensors"}},
		{"shard path", map[string]string{weights.SafetensorsIndexFile: `{"weight_map": {"a": "../s1.safetensors"}}`},
			[]string{`"a"`, "plain file name"}},
		{"corrupt bin", map[string]string{weights.BinFile: "not a pickle"}, []string{weights.BinFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, c := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644))
			}
			_, err := weights.OpenDir(dir)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("index names a tensor its shard lacks", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, weights.WriteSafetensors(filepath.Join(dir, "s1.safetensors"), []nn.NamedTensor{{Name: "a", Tensor: x}}, nil))
		require.NoError(t, os.WriteFile(filepath.Join(dir, weights.SafetensorsIndexFile),
			[]byte(`{"metadata": {}, "weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}}`), 0o644))
		d, err := weights.OpenDir(dir)
		require.NoError(t, err)
		defer d.Close()
		assert.Equal(t, []string{"a", "b"}, d.Names())
		s, err := d.Shape("a")
		require.NoError(t, err)
		assert.Equal(t, []int64{2}, s)
		_, err = d.Tensor("b")
		require.ErrorContains(t, err, "s1.safetensors")
		require.ErrorContains(t, err, `"b"`)
		_, err = d.Shape("c")
		require.ErrorContains(t, err, `"c"`)
	})
	t.Run("missing directory", func(t *testing.T) {
		_, err := weights.OpenDir(filepath.Join(t.TempDir(), "nope"))
		require.Error(t, err)
	})
}
