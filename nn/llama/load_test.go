package llama_test

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// llamaBackground is a reference script running while the Go side works.
type llamaBackground struct {
	cmd    *exec.Cmd
	stderr strings.Builder
	script string
}

// llamaStartReference launches scripts/reference/<script> under the reference interpreter without waiting for it.
func llamaStartReference(t *testing.T, script string, args ...string) *llamaBackground {
	t.Helper()
	b := &llamaBackground{script: script}
	path := filepath.Join(reftest.Root(t), "scripts", "reference", script)
	b.cmd = exec.Command(reftest.Python(t), append([]string{path}, args...)...)
	b.cmd.Env = append(os.Environ(), "PYTHONHASHSEED=0", "OMP_NUM_THREADS=1", "TOKENIZERS_PARALLELISM=false",
		"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "TRANSFORMERS_VERBOSITY=error")
	b.cmd.Stderr = &b.stderr
	require.NoError(t, b.cmd.Start())
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			_ = b.cmd.Wait()
		}
	})
	return b
}

func (b *llamaBackground) wait(t *testing.T) {
	t.Helper()
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\n%s", b.script, err, b.stderr.String())
	}
}

func llamaValues(x *ts.Tensor) []float64 {
	c := x.MustDetach(false)
	defer c.MustDrop()
	return c.Float64Values()
}

// llamaRequireClose fails unless got and want agree within tol·(1+|want|), reporting the largest deviation.
func llamaRequireClose(t *testing.T, want, got []float64, tol float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(got[i]-want[i]) / (1 + math.Abs(want[i]))
		if !(d <= worst) {
			worst, at = d, i
		}
	}
	if worst > tol || math.IsNaN(worst) {
		t.Fatalf("%s: element %d: got %v, want %v (scaled deviation %.3g > %.3g)", what, at, got[at], want[at], worst, tol)
	}
	t.Logf("%s: largest scaled deviation %.2g over %d values", what, worst, len(want))
}

// TestLoadTiny loads tiny random models written by transformers (llama_tiny.py), and their GGUF conversions
// (llama_tiny_gguf.py), and compares their logits with transformers'.
func TestLoadTiny(t *testing.T) {
	t.Parallel() // the two reference scripts run side by side
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ref := t.TempDir()
	reftest.Run(t, "llama_tiny.py", ref)
	reftest.Run(t, "llama_tiny_gguf.py", ref, "untied", "bias", "linear", "tied", "tied-f16")

	t.Run("gguf", func(t *testing.T) {
		tests := []struct {
			file, variant string
			tied          bool
			tol           float64
		}{
			{"untied.gguf", "untied", false, 1e-4},
			{"bias.gguf", "bias", false, 1e-4},
			{"linear.gguf", "linear", false, 1e-4},
			{"tied.gguf", "tied", true, 1e-4},
			{"tied-f16.gguf", "tied", true, 1e-2},
		}
		for _, tc := range tests {
			t.Run(tc.file, func(t *testing.T) {
				lm, err := llama.Load(filepath.Join(ref, tc.file), llama.Options{})
				require.NoError(t, err)
				require.Equal(t, tc.tied, lm.LMHead == nil)
				want, err := llama.ReadConfig(filepath.Join(ref, tc.variant, "config.json"))
				require.NoError(t, err)
				got := lm.Model.Config
				want.PadTokenID, want.NumLabels, want.InitializerRange = got.PadTokenID, got.NumLabels, got.InitializerRange
				require.Equal(t, *want, got)
				r := llamaReadRef(t, filepath.Join(ref, tc.variant, "ref.safetensors"))
				var logits *ts.Tensor
				nn.NoGrad(func() { logits = lm.Logits(r["ids"], r["mask"], false) })
				llamaRequireClose(t, llamaMasked(r["logits"], r["mask"]), llamaMasked(logits, r["mask"]), tc.tol, "logits")
			})
		}
	})

	t.Run("causal-lm", func(t *testing.T) {
		tests := []struct {
			variant string
			tied    bool
		}{
			{"tied", true},
			{"untied", false},
			{"sharded", false},
			{"llama3", false},
			{"bias", false},
		}
		for _, tc := range tests {
			t.Run(tc.variant, func(t *testing.T) {
				dir := filepath.Join(ref, tc.variant)
				lm, err := llama.Load(dir, llama.Options{})
				require.NoError(t, err)
				require.Equal(t, tc.tied, lm.LMHead == nil)
				r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
				require.NoError(t, lm.Model.CheckInputs(r["ids"], r["mask"]))
				var logits *ts.Tensor
				nn.NoGrad(func() { logits = lm.Logits(r["ids"], r["mask"], false) })
				llamaRequireClose(t, llamaMasked(r["logits"], r["mask"]), llamaMasked(logits, r["mask"]), 1e-4, "logits")
			})
		}
	})

	t.Run("seq-cls", func(t *testing.T) {
		dir := filepath.Join(ref, "seqcls")
		m, err := llama.LoadForSequenceClassification(dir, llama.Options{})
		require.NoError(t, err)
		r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
		var logits *ts.Tensor
		nn.NoGrad(func() { logits = m.Logits(r["ids"], r["mask"], false) })
		llamaRequireClose(t, llamaValues(r["logits"]), llamaValues(logits), 1e-4, "seq-cls logits")
	})

	t.Run("seq-cls from a language model", func(t *testing.T) {
		dir := filepath.Join(ref, "untied")
		pad := 0
		load := func(seed uint64) *llama.ForSequenceClassification {
			m, err := llama.LoadForSequenceClassification(dir, llama.Options{NumLabels: 5, PadTokenID: &pad, Seed: seed})
			require.NoError(t, err)
			return m
		}
		a, b, c := load(1), load(1), load(2)
		require.Equal(t, []int64{5, 64}, a.Score.Weight.MustSize())
		wa := llamaValues(a.Score.Weight)
		require.Equal(t, wa, llamaValues(b.Score.Weight))
		require.NotEqual(t, wa, llamaValues(c.Score.Weight))
		var std float64
		for _, x := range wa {
			std += x * x
		}
		require.InDelta(t, 0.1, math.Sqrt(std/float64(len(wa))), 0.02) // the initializer_range of llama_tiny.py
		r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
		var logits *ts.Tensor
		nn.NoGrad(func() { logits = a.Logits(r["ids"], r["mask"], false) })
		require.Equal(t, []int64{3, 5}, logits.MustSize())
	})

	t.Run("bf16", func(t *testing.T) {
		dir := filepath.Join(ref, "sharded")
		lm, err := llama.Load(dir, llama.Options{DType: gotch.BFloat16})
		require.NoError(t, err)
		require.Equal(t, gotch.BFloat16, lm.LMHead.Weight.DType())
		r := llamaReadRef(t, filepath.Join(dir, "ref.safetensors"))
		var logits *ts.Tensor
		nn.NoGrad(func() { logits = lm.Logits(r["ids"], r["mask"], false) })
		llamaRequireClose(t, llamaMasked(r["logits"], r["mask"]), llamaMasked(logits, r["mask"]), 0.1, "bf16 logits")
	})

	t.Run("errors", func(t *testing.T) {
		broken := t.TempDir()
		cfg, err := os.ReadFile(filepath.Join(ref, "tied", "config.json"))
		require.NoError(t, err)
		untied := strings.Replace(string(cfg), `"tie_word_embeddings": true`, `"tie_word_embeddings": false`, 1)
		require.NotEqual(t, string(cfg), untied)
		require.NoError(t, os.WriteFile(filepath.Join(broken, "config.json"), []byte(untied), 0o644))
		st, err := os.ReadFile(filepath.Join(ref, "tied", "model.safetensors"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(broken, "model.safetensors"), st, 0o644))
		notModel := filepath.Join(broken, "notes.txt")
		require.NoError(t, os.WriteFile(notModel, []byte("hello"), 0o644))
		badCfg := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(badCfg, "config.json"), []byte(`{"model_type": "llama", "rope_scaling": {"rope_type": "yarn", "factor": 4}}`), 0o644))

		tests := []struct {
			name, path, want string
		}{
			{"missing path", filepath.Join(broken, "nope"), "no such file"},
			{"not a model", notModel, "neither a Hugging Face model directory nor a GGUF file"},
			{"no config", t.TempDir(), "config.json"},
			{"bad config", badCfg, "yarn"},
			{"missing tensor", broken, "lm_head.weight"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := llama.Load(tc.path, llama.Options{})
				require.ErrorContains(t, err, tc.want)
			})
		}
	})
}

// TestLoadSmolLM2GGUF loads the real SmolLM2-135M-Instruct Q4_1 GGUF and compares its logits on 32 tokens (and a
// right-padded copy of their first half) with transformers, which gets the same dequantized weights.
func TestLoadSmolLM2GGUF(t *testing.T) {
	t.Parallel() // the two reference scripts run side by side
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	path := reftest.SmolLM2(t)
	rng := rand.New(rand.NewPCG(42, 7))
	ids := make([]string, 32)
	for i := range ids {
		ids[i] = strconv.Itoa(rng.IntN(49152))
	}
	out := filepath.Join(t.TempDir(), "smollm2.safetensors")
	py := llamaStartReference(t, "llama_smollm2.py", path, out, strings.Join(ids, ","))

	start := time.Now()
	lm, err := llama.Load(path, llama.Options{})
	require.NoError(t, err)
	loadTime := time.Since(start)
	cfg := lm.Model.Config
	require.Equal(t, 30, cfg.NumHiddenLayers)
	require.Equal(t, 3, cfg.NumKeyValueHeads)
	require.Equal(t, 1e-5, cfg.RMSNormEps)
	require.Equal(t, 100000.0, cfg.RopeTheta)
	require.True(t, cfg.TieWordEmbeddings)
	require.Nil(t, lm.LMHead)

	py.wait(t)
	r := llamaReadRef(t, out)
	ids0 := r["ids"].MustNarrow(0, 0, 1, false)
	var single, batch *ts.Tensor
	var fwd [2]time.Duration
	for i := range fwd {
		start = time.Now()
		nn.NoGrad(func() { single = lm.Logits(ids0, nil, false) })
		fwd[i] = time.Since(start)
	}
	nn.NoGrad(func() { batch = lm.Logits(r["ids"], r["mask"], false) })
	t.Logf("SmolLM2-135M Q4_1: load (dequantize to fp32) %v, forward on 32 tokens %v (first) and %v (second), %d libtorch threads",
		loadTime.Round(time.Millisecond), fwd[0].Round(time.Millisecond), fwd[1].Round(time.Millisecond), nn.NumThreads())

	want0 := r["logits"].MustNarrow(0, 0, 1, false)
	llamaRequireClose(t, llamaValues(want0), llamaValues(single), 1e-4, "logits of 32 tokens")
	llamaRequireClose(t, llamaMasked(r["logits"], r["mask"]), llamaMasked(batch, r["mask"]), 1e-4, "padded batch logits")
}
