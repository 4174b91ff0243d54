package llama_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// TestLlamaParity compares the Llama model with transformers on tiny random models made by llama_tiny.py.
func TestLlamaParity(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ref := t.TempDir()
	reftest.Run(t, "llama_tiny.py", ref)
	t.Run("causal-lm", func(t *testing.T) { testLlamaCausalLM(t, ref) })
	t.Run("seq-cls", func(t *testing.T) { testLlamaSequenceClassification(t, ref) })
	t.Run("rmsnorm", func(t *testing.T) { testLlamaRMSNorm(t, ref) })
	t.Run("lora", func(t *testing.T) { testLlamaLoRA(t, ref) })
}

// llamaReadRef loads every tensor of a reference file.
func llamaReadRef(t *testing.T, path string) map[string]*ts.Tensor {
	t.Helper()
	m, _, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	return m
}

// llamaLoadDir builds a model of the given kind from a single-file HF directory and loads its weights.
func llamaLoadDir(t *testing.T, dir string, seqCls bool, o llama.BuildOptions) any {
	t.Helper()
	cfg, err := llama.ReadConfig(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var model any
	if seqCls {
		model, err = llama.NewForSequenceClassification(cfg, o)
	} else {
		model, err = llama.New(cfg, o)
	}
	require.NoError(t, err)
	st, err := weights.OpenSafetensors(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, weights.LoadState(model, st, weights.LoadOptions{}))
	return model
}

// llamaMasked returns the [B, T, ...] values of x at the positions where mask is 1.
func llamaMasked(x, mask *ts.Tensor) []float64 {
	v := nntest.Values(x)
	m := mask.Int64Values()
	per := len(v) / len(m)
	var out []float64
	for i, keep := range m {
		if keep == 1 {
			out = append(out, v[i*per:(i+1)*per]...)
		}
	}
	return out
}

func testLlamaCausalLM(t *testing.T, ref string) {
	tests := []struct {
		variant string
		tied    bool
		scaling string
	}{
		{"tied", true, ""},
		{"untied", false, ""},
		{"linear", false, "linear"},
		{"dynamic", false, "dynamic"},
		{"llama3", false, "llama3"},
		{"bias", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.variant, func(t *testing.T) {
			dir := filepath.Join(ref, tc.variant)
			lm := llamaLoadDir(t, dir, false, llama.BuildOptions{}).(*llama.ForCausalLM)
			require.Equal(t, tc.tied, lm.LMHead == nil)
			if tc.scaling != "" {
				require.NotNil(t, lm.Model.Config.RopeScaling)
				require.Equal(t, tc.scaling, lm.Model.Config.RopeScaling.Type)
			}
			r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
			ids, mask := r["ids"], r["mask"]
			require.NoError(t, lm.Model.CheckInputs(ids, mask))
			T := ids.MustSize()[1]

			// rotary tables and frequencies, unit level
			inv := lm.Model.Rotary.InvFreq()
			if tc.scaling != "dynamic" { // dynamic frequencies depend on the sequence length
				want := nntest.Values(r["inv_freq"])
				got := make([]float64, len(inv))
				for i, x := range inv {
					got[i] = float64(x)
				}
				nntest.RequireClose(t, want, got, 1e-7, "inv_freq")
			}
			cos, sin := lm.Model.Rotary.CosSin(T, gotch.Float, gotch.CPU)
			nntest.RequireClose(t, nntest.Values(r["cos"]), nntest.Values(cos), 1e-6, "cos")
			nntest.RequireClose(t, nntest.Values(r["sin"]), nntest.Values(sin), 1e-6, "sin")

			var logits *ts.Tensor
			nn.NoGrad(func() { logits = lm.Logits(ids, mask, false) })
			require.Equal(t, []int64{3, T, 128}, logits.MustSize())
			require.Equal(t, gotch.Float, logits.DType())
			nntest.RequireClose(t, llamaMasked(r["logits"], mask), llamaMasked(logits, mask), 1e-4, "logits")

			labels := ids.MustMaskedFill(mask.MustEq(ts.IntScalar(0), false), ts.IntScalar(llama.IgnoreIndex), false)
			loss := llama.CausalLMLoss(logits, labels)
			nntest.RequireClose(t, nntest.Values(r["loss"]), nntest.Values(loss), 1e-5, "loss")

			// the unpadded first row alone, without a mask (plain causal attention)
			row := ids.MustNarrow(0, 0, 1, false)
			nn.NoGrad(func() { logits = lm.Logits(row, nil, false) })
			want := r["logits"].MustNarrow(0, 0, 1, false)
			nntest.RequireClose(t, nntest.Values(want), nntest.Values(logits), 1e-4, "unmasked logits")
		})
	}
}

func testLlamaSequenceClassification(t *testing.T, ref string) {
	dir := filepath.Join(ref, "seqcls")
	m := llamaLoadDir(t, dir, true, llama.BuildOptions{}).(*llama.ForSequenceClassification)
	require.Equal(t, 0, m.Model.Config.PadTokenID)
	require.Equal(t, 3, m.Model.Config.NumLabels)
	r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
	var got *ts.Tensor
	var sc nn.SequenceClassifier = m
	nn.NoGrad(func() { got = sc.Logits(r["ids"], r["mask"], false) })
	require.Equal(t, []int64{3, 3}, got.MustSize())
	nntest.RequireClose(t, nntest.Values(r["logits"]), nntest.Values(got), 1e-4, "seq-cls logits")
	require.Equal(t, "score.weight", sc.Head()[0].Name)
}

func testLlamaRMSNorm(t *testing.T, ref string) {
	r := llamaReadRef(t, filepath.Join(ref, "rmsnorm.safetensors"))
	tests := []struct {
		name   string
		x, y   string
		weight *ts.Tensor
		tol    float64
	}{
		{"fp32", "x", "y", r["weight"], 1e-6},
		{"bf16", "x_bf16", "y_bf16", r["weight"].MustTotype(gotch.BFloat16, false), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := llama.NewRMSNorm(tc.weight, 1e-5)
			y := n.Forward(r[tc.x])
			require.Equal(t, r[tc.y].DType(), y.DType())
			nntest.RequireClose(t, nntest.Values(r[tc.y]), nntest.Values(y), tc.tol, "rmsnorm")
		})
	}
}

// testLlamaLoRA checks that the projections are LoRA-adaptable Linears, that a fresh adapter (B = 0) leaves the
// logits unchanged and that gradients reach it, also with a bf16 base.
func testLlamaLoRA(t *testing.T, ref string) {
	dir := filepath.Join(ref, "untied")
	r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
	ids, mask := r["ids"], r["mask"]
	tests := []struct {
		name  string
		dtype gotch.DType
		tol   float64
	}{
		{"fp32", gotch.Float, 1e-4},
		{"bf16", gotch.BFloat16, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lm := llamaLoadDir(t, dir, false, llama.BuildOptions{DType: tc.dtype}).(*llama.ForCausalLM)
			mods, err := nn.Modules(lm)
			require.NoError(t, err)
			var linears []string
			rng := rand.New(rand.NewPCG(1, 2))
			var adapters []*nn.LoRA
			for _, m := range mods {
				if l, ok := m.Layer.(*nn.Linear); ok && m.Path != "lm_head" {
					linears = append(linears, m.Path)
					require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 4, Alpha: 8}, rng))
					adapters = append(adapters, l.LoRA)
				}
			}
			require.Len(t, linears, 2*7)
			require.Equal(t, "model.layers.0.self_attn.q_proj", linears[0])
			require.Equal(t, "model.layers.1.mlp.down_proj", linears[13])
			logits := lm.Logits(ids, mask, true)
			nntest.RequireClose(t, llamaMasked(r["logits"], mask), llamaMasked(logits.MustDetach(false), mask), tc.tol, "logits")
			loss := logits.MustSquare(false).MustMean(gotch.Float, true)
			loss.MustBackward()
			for _, a := range adapters {
				require.Equal(t, gotch.Float, a.B.DType())
				g := a.B.MustGrad(false)
				require.True(t, g.MustDefined())
				s := g.MustAbs(true).MustSum(gotch.Float, true).Float64Values()[0]
				require.Greater(t, s, 0.0)
				require.False(t, math.IsNaN(s))
			}
			params, err := nn.Parameters(lm)
			require.NoError(t, err)
			for _, p := range params {
				require.False(t, p.Tensor.MustRequiresGrad(), p.Name)
			}
		})
	}
}

func TestParseLlamaConfigErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"bad json", `{`, "llama config"},
		{"model type", `{"model_type": "gpt2"}`, "model_type"},
		{"act", `{"hidden_act": "gelu"}`, "hidden_act"},
		{"heads", `{"hidden_size": 64, "num_attention_heads": 5}`, "num_attention_heads"},
		{"kv heads", `{"hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 3}`, "num_key_value_heads"},
		{"rope type", `{"rope_scaling": {"rope_type": "yarn", "factor": 2}}`, "yarn"},
		{"rope factor", `{"rope_scaling": {"type": "linear"}}`, "rope_scaling.factor"},
		{"llama3 keys", `{"rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1}}`, "high_freq_factor"},
		{"pad", `{"vocab_size": 10, "pad_token_id": 10}`, "pad_token_id"},
		{"eps", `{"rms_norm_eps": 0}`, "rms_norm_eps"},
		{"rope parameters type", `{"rope_parameters": {"rope_type": "yarn", "rope_theta": 1e4, "factor": 2}}`, "yarn"},
		{"rope parameters factor", `{"rope_parameters": {"rope_type": "linear", "rope_theta": 1e4}}`, "rope_parameters.factor"},
		{"rope parameters theta", `{"rope_parameters": {"rope_type": "default", "rope_theta": "x"}}`, "rope_parameters.rope_theta"},
		{"rope parameters no type", `{"rope_parameters": {"rope_theta": 1e4}}`, "rope_parameters has no rope_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := llama.ParseConfig([]byte(tc.json))
			require.ErrorContains(t, err, tc.want)
		})
	}
	c, err := llama.ParseConfig([]byte(`{"num_attention_heads": 8, "id2label": {"0": "a", "1": "b", "2": "c"}, "pad_token_id": null}`))
	require.NoError(t, err)
	require.Equal(t, 8, c.NumKeyValueHeads)
	require.Equal(t, 3, c.NumLabels)
	require.Equal(t, -1, c.PadTokenID)
}

// TestParseLlamaConfigRopeParameters: transformers ≥ 5 writes rope_theta and the scaling as rope_parameters; the
// older keys give the same config.
func TestParseLlamaConfigRopeParameters(t *testing.T) {
	tests := []struct {
		name, old, new string
		theta          float64
		scaling        *llama.RopeScaling
	}{
		{"default", `{"rope_theta": 5000}`, `{"rope_parameters": {"rope_type": "default", "rope_theta": 5000}}`, 5000, nil},
		{"linear", `{"rope_theta": 500, "rope_scaling": {"rope_type": "linear", "factor": 2}}`,
			`{"rope_parameters": {"rope_type": "linear", "rope_theta": 500, "factor": 2}}`, 500, &llama.RopeScaling{Type: "linear", Factor: 2}},
		{"llama3", `{"rope_theta": 5e5, "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}}`,
			`{"rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}}`,
			5e5, &llama.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, js := range []string{tc.old, tc.new} {
				c, err := llama.ParseConfig([]byte(js))
				require.NoError(t, err, js)
				require.Equal(t, tc.theta, c.RopeTheta, js)
				require.Equal(t, tc.scaling, c.RopeScaling, js)
			}
		})
	}
}

func TestLlamaCheckInputs(t *testing.T) {
	cfg := llama.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 16, 8, 8, 1
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads = 2, 1
	m, err := llama.NewModel(&cfg, llama.BuildOptions{RNG: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	i64 := func(shape []int64, v ...int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	tests := []struct {
		name      string
		ids, mask *ts.Tensor
		want      string
	}{
		{"ok", i64([]int64{1, 3}, 1, 2, 3), i64([]int64{1, 3}, 1, 1, 0), ""},
		{"rank", i64([]int64{3}, 1, 2, 3), nil, "[B, T]"},
		{"range", i64([]int64{1, 2}, 1, 16), nil, "[0, 16)"},
		{"dtype", nntest.F32([]int64{1, 2}, []float32{1, 2}), nil, "int64"},
		{"mask shape", i64([]int64{1, 2}, 1, 2), i64([]int64{1, 3}, 1, 1, 1), "mask shape"},
		{"mask values", i64([]int64{1, 2}, 1, 2), i64([]int64{1, 2}, 1, 2), "0 or 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.CheckInputs(tc.ids, tc.mask)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = llama.NewModel(&cfg, llama.BuildOptions{DType: gotch.Int64})
	require.ErrorContains(t, err, "dtype")
	_, err = llama.NewModel(&cfg, llama.BuildOptions{DType: gotch.Half, Device: gotch.CPU})
	require.ErrorContains(t, err, "CUDA")
}

// TestLlamaPoolingWithoutPadToken checks that a classifier without pad_token_id pools the last position whose mask
// is 1: a right-padded row scores like the same tokens alone.
func TestLlamaPoolingWithoutPadToken(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cfg := llama.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHiddenLayers = 32, 16, 24, 2
	cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.NumLabels, cfg.InitializerRange = 4, 2, 3, 0.2
	m, err := llama.NewForSequenceClassification(&cfg, llama.BuildOptions{RNG: rand.New(rand.NewPCG(3, 4))})
	require.NoError(t, err)
	i64 := func(shape []int64, v ...int64) *ts.Tensor { return ts.MustOfSlice(v).MustView(shape, true) }
	ids := i64([]int64{2, 5}, 3, 9, 27, 4, 11, 5, 8, 30, 0, 0)
	mask := i64([]int64{2, 5}, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0)
	var batch, alone, whole *ts.Tensor
	nn.NoGrad(func() {
		batch = m.Logits(ids, mask, false)
		alone = m.Logits(i64([]int64{1, 3}, 5, 8, 30), nil, false)
		whole = m.Logits(ids.MustNarrow(0, 0, 1, false), nil, false)
	})
	require.Equal(t, []int64{2, 3}, batch.MustSize())
	b := nntest.Values(batch)
	nntest.RequireClose(t, nntest.Values(whole), b[:3], 1e-5, "full row")
	nntest.RequireClose(t, nntest.Values(alone), b[3:], 1e-5, "padded row")
	require.NotEqual(t, b[:3], b[3:])
}
