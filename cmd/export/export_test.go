package main

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// llama2IDs are token ids of the Llama-2 vocabulary whose logits the tests compare.
var llama2IDs = []int64{1, 450, 4996, 17354, 1701, 432, 29889, 13, 2, 31999}

// exportRun runs the command and returns its exit status and stderr.
func exportRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stderr.String()
}

// makeAdapter wraps the model at base with adapters on targets, gives all of them N(0, std) values (so that B·A
// is far from 0), saves them to a new folder and returns it with the logits of ids through the wrapped, unmerged
// model: the reference for every export.
func makeAdapter(t *testing.T, base string, ids []int64, rank int, std float64, targets ...string) (string, []float32) {
	t.Helper()
	lm, err := nnllama.Load(base, nnllama.Options{})
	require.NoError(t, err)
	cfg := loraplus.DefaultConfig(targets...)
	cfg.Rank, cfg.Alpha = rank, 2*float64(rank)
	m, err := loraplus.Wrap(lm, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range m.Params {
		nn.NoGrad(func() { nn.FillNormal(p.Tensor, rng, std) })
	}
	dir := filepath.Join(t.TempDir(), "adapter")
	require.NoError(t, m.SaveAdapter(dir, loraplus.AdapterOptions{BaseModel: base, TaskType: "CAUSAL_LM"}))
	return dir, logitsOf(t, lm, ids)
}

// logitsOf returns the logits [T·V] of ids from a loaded model.
func logitsOf(t *testing.T, lm *nnllama.ForCausalLM, ids []int64) []float32 {
	t.Helper()
	x := ts.MustOfSlice(ids).MustView([]int64{1, int64(len(ids))}, true)
	var l *ts.Tensor
	nn.NoGrad(func() { l = lm.Logits(x, nil, false) })
	v, _, err := float32s(l)
	require.NoError(t, err)
	return v
}

// loaded returns the logits of an exported model read back by nn/llama.Load.
func loaded(t *testing.T, path string, ids []int64) []float32 {
	t.Helper()
	lm, err := nnllama.Load(path, nnllama.Options{})
	require.NoError(t, err)
	return logitsOf(t, lm, ids)
}

// idsArg is ids as a comma-separated list.
func idsArg(ids []int64) string {
	var s []string
	for _, id := range ids {
		s = append(s, strconv.FormatInt(id, 10))
	}
	return strings.Join(s, ",")
}

// readLogits reads the logits that export_check.py wrote.
func readLogits(t *testing.T, path string) []float32 {
	t.Helper()
	st, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	v, _, err := float32s(st["logits"])
	require.NoError(t, err)
	return v
}

// maxDiff returns max |a-b| and max |a|.
func maxDiff(t *testing.T, a, b []float32) (diff, scale float64) {
	t.Helper()
	require.Equal(t, len(a), len(b))
	for i := range a {
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(a[i])))
	}
	return diff, scale
}

// ggufCheck is export_check.py's gguf report.
type ggufCheck struct {
	Tensors map[string]struct {
		Type       string  `json:"type"`
		WantType   string  `json:"want_type"`
		BytesEqual bool    `json:"bytes_equal"`
		MaxAbsDiff float64 `json:"max_abs_diff"`
		MaxAbs     float64 `json:"max_abs"`
	} `json:"tensors"`
	Missing        []string       `json:"missing"`
	Metadata       map[string]any `json:"metadata"`
	ArrayLengths   map[string]int `json:"array_lengths"`
	OffsetsAligned bool           `json:"offsets_aligned"`
	Alignment      int            `json:"alignment"`
}

// batch runs export_check.py's jobs in one process and returns their reports.
func batch(t *testing.T, jobs [][]string) []json.RawMessage {
	t.Helper()
	f := filepath.Join(t.TempDir(), "jobs.json")
	b, err := json.Marshal(jobs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, b, 0o644))
	var reps []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "export_check.py", "batch", f)), &reps))
	require.Len(t, reps, len(jobs))
	return reps
}

// checkReport decodes a gguf report of export_check.py: gguf-py read the file, and its tensors must equal, byte
// for byte, the conversion of the fp32 Hugging Face export.
func checkReport(t *testing.T, raw json.RawMessage) ggufCheck {
	t.Helper()
	var c ggufCheck
	require.NoError(t, json.Unmarshal(raw, &c))
	require.Empty(t, c.Missing)
	require.True(t, c.OffsetsAligned)
	require.Equal(t, 32, c.Alignment)
	for name, x := range c.Tensors {
		require.Equal(t, x.WantType, x.Type, name)
		require.True(t, x.BytesEqual, "%s: bytes differ from gguf-py's conversion", name)
	}
	return c
}

var tinyTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head", "embed_tokens"}

func TestExportTiny(t *testing.T) {
	runtime.LockOSThread()
	base, tok := reftest.TinyLlama(t)
	tokData, err := os.ReadFile(filepath.Join(tok, "tokenizer.model"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(base, "tokenizer.model"), tokData, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "tokenizer_config.json"), []byte(`{"add_bos_token": true, "add_eos_token": false}`), 0o644))
	adapter, want := makeAdapter(t, base, llama2IDs, 4, 0.2, tinyTargets...)
	baseLogits := loaded(t, base, llama2IDs)
	d, _ := maxDiff(t, want, baseLogits)
	require.Greater(t, d, 0.1, "the adapter must change the logits")
	out := t.TempDir()

	// (a) a Hugging Face directory, sharded by a tiny shard size
	hf := filepath.Join(out, "merged")
	code, stderr := exportRun(t, "-model", base, "-adapter", adapter, "-out", hf, "-format", "hf", "-max-shard-size", "100KB")
	require.Equal(t, cli.ExitOK, code, stderr)
	for _, f := range []string{"config.json", "model.safetensors.index.json", "model-00003-of-00003.safetensors", "tokenizer.model", "tokenizer_config.json", "generation_config.json"} {
		require.FileExists(t, filepath.Join(hf, f))
	}
	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(hf, "config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &cfg))
	for k, v := range map[string]any{"model_type": "llama", "architectures": []any{"LlamaForCausalLM"}, "hidden_size": 16.0,
		"num_key_value_heads": 2.0, "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "float32",
		"bos_token_id": 1.0, "eos_token_id": 2.0, "rms_norm_eps": 1e-5} {
		require.Equal(t, v, cfg[k], k)
	}
	d, _ = maxDiff(t, want, loaded(t, hf, llama2IDs))
	require.Less(t, d, 1e-4, "nn/llama's logits of the HF export")

	// the same in bfloat16: the fp32 export's values rounded, torch_dtype bfloat16
	hf16 := filepath.Join(out, "merged-bf16")
	code, stderr = exportRun(t, "-model", base, "-adapter", adapter, "-out", hf16, "-format", "hf", "-dtype", "bfloat16")
	require.Equal(t, cli.ExitOK, code, stderr)
	b, err = os.ReadFile(filepath.Join(hf16, "config.json"))
	require.NoError(t, err)
	require.Contains(t, string(b), `"torch_dtype": "bfloat16"`)
	d32, err := weights.OpenDir(hf)
	require.NoError(t, err)
	defer d32.Close()
	d16, err := weights.OpenDir(hf16)
	require.NoError(t, err)
	defer d16.Close()
	require.Equal(t, d32.Names(), d16.Names())
	for _, name := range d32.Names() {
		dt, err := d16.DType(name)
		require.NoError(t, err)
		require.Equal(t, gotch.BFloat16, dt, name)
		x32, err := d32.Tensor(name)
		require.NoError(t, err)
		x16, err := d16.Tensor(name)
		require.NoError(t, err)
		require.True(t, x32.MustTotype(gotch.BFloat16, true).MustEqual(x16, true), name)
	}

	// (b) GGUF F16 and Q8_0, from the HF base and from a GGUF base; and an HF export of the GGUF base
	ggufBase := base + ".gguf"
	reftest.Run(t, "llama_tiny_gguf.py", filepath.Dir(base), filepath.Base(base))
	hfOfGGUF := filepath.Join(out, "merged-from-gguf")
	code, stderr = exportRun(t, "-model", ggufBase, "-adapter", adapter, "-out", hfOfGGUF, "-format", "hf")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stderr, "no tokenizer files written")
	cases := []struct {
		name, base, format string
		types              map[string]string
		tol                float64 // max |Δlogit| / max |logit| against the unmerged fp32 model
	}{
		// fp16 rounding moves each weight by at most 2^-11 of itself; measured 1.1e-3 here
		{"f16 from hf", base, "gguf-f16", map[string]string{"blk.0.ffn_down.weight": "F16", "blk.0.attn_norm.weight": "F32"}, 5e-3},
		// Q8_0 moves each weight by at most 1/254 of its block's max (rows of 16 values stay F16 as in
		// convert_hf_to_gguf); measured 8e-3 here
		{"q8_0 from gguf", ggufBase, "gguf-q8_0", map[string]string{"blk.0.ffn_down.weight": "Q8_0", "blk.0.ffn_up.weight": "F16", "token_embd.weight": "F16"}, 3e-2},
	}
	// one start of the Python oracle for every check
	logitsFile := func(name string) string { return filepath.Join(out, name+"-logits.safetensors") }
	jobs := [][]string{{"hf", hf, idsArg(llama2IDs), logitsFile("hf")}, {"hf", hfOfGGUF, idsArg(llama2IDs), logitsFile("hf-of-gguf")},
		{"hf", hf16, idsArg(llama2IDs), logitsFile("hf-bf16")}}
	for _, c := range cases {
		file := filepath.Join(out, c.name+".gguf")
		code, stderr := exportRun(t, "-model", c.base, "-adapter", adapter, "-out", file, "-format", c.format)
		require.Equal(t, cli.ExitOK, code, stderr)
		jobs = append(jobs, []string{"gguf", file, hf, idsArg(llama2IDs), logitsFile(c.name)})
	}
	jobs = append(jobs, []string{"spm", filepath.Join(out, cases[0].name+".gguf"), base})
	reps := batch(t, jobs)

	for _, name := range []string{"hf", "hf-of-gguf"} {
		d, _ = maxDiff(t, want, readLogits(t, logitsFile(name)))
		require.Less(t, d, 1e-4, "transformers' logits of the %s export", name)
	}
	// transformers reads the bfloat16 export (upcast to fp32) as nn/llama does
	d, _ = maxDiff(t, loaded(t, hf16, llama2IDs), readLogits(t, logitsFile("hf-bf16")))
	require.Less(t, d, 1e-4, "transformers' logits of the bfloat16 export")
	// the tokenizer metadata built from tokenizer.model, as llama.cpp's converters build it
	var spm struct {
		Tokens     int      `json:"tokens"`
		Mismatches []string `json:"mismatches"`
	}
	require.NoError(t, json.Unmarshal(reps[len(reps)-1], &spm))
	require.Equal(t, 32000, spm.Tokens)
	require.Empty(t, spm.Mismatches)
	wantTok, err := tokenizer.Load(tok)
	require.NoError(t, err)
	gotTok, err := tokenizer.Load(filepath.Join(out, cases[0].name+".gguf"))
	require.NoError(t, err)
	const text = "Hello world, how are you? Ünïcödé 123"
	require.Equal(t, wantTok.Encode(text, true), gotTok.Encode(text, true))

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(out, c.name+".gguf")
			rep := checkReport(t, reps[3+i])
			for name, typ := range c.types {
				require.Equal(t, typ, rep.Tensors[name].Type, name)
			}
			require.Len(t, rep.Tensors, 21)
			for k, v := range map[string]any{"general.architecture": "llama", "llama.block_count": 2.0, "llama.context_length": 512.0,
				"llama.embedding_length": 16.0, "llama.feed_forward_length": 32.0, "llama.attention.head_count": 4.0,
				"llama.attention.head_count_kv": 2.0, "llama.rope.dimension_count": 4.0, "llama.rope.freq_base": 10000.0,
				"llama.attention.layer_norm_rms_epsilon": float64(float32(1e-5))} {
				require.Equal(t, v, rep.Metadata[k], k)
			}
			goLogits := loaded(t, file, llama2IDs)
			d, scale := maxDiff(t, want, goLogits)
			t.Logf("%s: max |Δlogit| %.3g of max |logit| %.3g", c.name, d, scale)
			require.Less(t, d, c.tol*scale)
			d, _ = maxDiff(t, goLogits, readLogits(t, logitsFile(c.name)))
			require.Less(t, d, 1e-4, "transformers on the GGUF (load_gguf) against nn/llama on it")
		})
	}
}
