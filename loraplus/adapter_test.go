package loraplus_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn/weights"
)

func TestSaveAdapterWritesPEFTFiles(t *testing.T) {
	lockThread(t)
	dir := t.TempDir()
	net := newToyNet(2)
	m := wrapToy(t, net, loraplus.DefaultConfig(toyTargets...))
	require.NoError(t, m.AddTrainable("head.weight", net.Head.Weight))
	oc := loraplus.DefaultOptimConfig(3e-4)
	require.NoError(t, m.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: "toy", TaskType: "SEQ_CLS", Optim: &oc}))

	var cfg map[string]any
	data, err := os.ReadFile(filepath.Join(dir, loraplus.AdapterConfigFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cfg))
	assert.Equal(t, "LORA", cfg["peft_type"])
	assert.Equal(t, float64(8), cfg["r"])
	assert.Equal(t, true, cfg["fan_in_fan_out"], "fc2 is a Conv1D")
	assert.Equal(t, []any{"head"}, cfg["modules_to_save"])
	assert.Equal(t, []any{"emb", "fc1", "fc2"}, cfg["target_modules"])

	st, err := weights.OpenSafetensors(filepath.Join(dir, loraplus.AdapterWeightsFile))
	require.NoError(t, err)
	defer st.Close()
	assert.ElementsMatch(t, []string{
		"base_model.model.emb.lora_embedding_A", "base_model.model.emb.lora_embedding_B",
		"base_model.model.fc1.lora_A.weight", "base_model.model.fc1.lora_B.weight",
		"base_model.model.fc2.lora_A.weight", "base_model.model.fc2.lora_B.weight",
		"base_model.model.head.weight",
	}, st.Names())
	var meta loraplus.LoRAPlusMeta
	require.NoError(t, json.Unmarshal([]byte(st.Metadata["loraplus"]), &meta))
	assert.Equal(t, 16.0, meta.Ratio)
	assert.Equal(t, "B", meta.Groups["fc1.lora_B.weight"])
}

func TestLoadAdapterReportsMismatches(t *testing.T) {
	lockThread(t)
	dir := t.TempDir()
	net := newToyNet(2)
	cfg := loraplus.DefaultConfig("fc1", "fc2")
	m := wrapToy(t, net, cfg)
	require.NoError(t, m.SaveAdapter(dir, loraplus.AdapterOptions{}))

	t.Run("rank mismatch", func(t *testing.T) {
		bad := t.TempDir()
		copyDir(t, dir, bad)
		editJSON(t, filepath.Join(bad, loraplus.AdapterConfigFile), func(c map[string]any) { c["r"] = 4 })
		_, err := loraplus.LoadAdapter(newToyNet(2), bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "shape mismatches")
		assert.Contains(t, err.Error(), "base_model.model.fc1.lora_A.weight: file [8 6], model [4 6]")
	})
	t.Run("missing keys", func(t *testing.T) {
		bad := t.TempDir()
		copyDir(t, dir, bad)
		editJSON(t, filepath.Join(bad, loraplus.AdapterConfigFile), func(c map[string]any) { c["target_modules"] = []string{"fc1", "fc2", "head"} })
		_, err := loraplus.LoadAdapter(newToyNet(2), bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "missing keys (2)")
		assert.Contains(t, err.Error(), "base_model.model.head.lora_A.weight")
	})
	t.Run("unknown target", func(t *testing.T) {
		bad := t.TempDir()
		copyDir(t, dir, bad)
		editJSON(t, filepath.Join(bad, loraplus.AdapterConfigFile), func(c map[string]any) { c["target_modules"] = []string{"q_proj"} })
		_, err := loraplus.LoadAdapter(newToyNet(2), bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"q_proj" match no module`)
	})
	t.Run("use_dora without magnitudes", func(t *testing.T) {
		bad := t.TempDir()
		copyDir(t, dir, bad)
		editJSON(t, filepath.Join(bad, loraplus.AdapterConfigFile), func(c map[string]any) { c["use_dora"] = true })
		_, err := loraplus.LoadAdapter(newToyNet(2), bad)
		require.ErrorContains(t, err, "missing keys (2):\n  base_model.model.fc1.lora_magnitude_vector\n  base_model.model.fc2.lora_magnitude_vector")
	})
	t.Run("round trip", func(t *testing.T) {
		fresh := newToyNet(2)
		lm, err := loraplus.LoadAdapter(fresh, dir)
		require.NoError(t, err)
		for i, p := range lm.Params {
			assert.Equal(t, m.Params[i].Name, p.Name)
			assert.Zero(t, maxAbsDiff(m.Params[i].Tensor, p.Tensor), p.Name)
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	entries, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), data, 0o644))
	}
}

func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(data, &c))
	edit(c)
	data, err = json.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}
