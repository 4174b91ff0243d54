package nn_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// hfLock keeps the test's goroutine on one OS thread, where libtorch keeps its grad mode.
func hfLock(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

// hfMaxDiff returns max |a − b| over all elements, +Inf when the shapes differ.
func hfMaxDiff(a, b *ts.Tensor) float64 {
	if !assert.ObjectsAreEqual(a.MustSize(), b.MustSize()) {
		return math.Inf(1)
	}
	av, bv := values(a), values(b)
	m := 0.0
	for i := range av {
		m = math.Max(m, math.Abs(av[i]-bv[i]))
	}
	return m
}

// hfReadAll reads a safetensors file of the test's fixtures.
func hfReadAll(t *testing.T, path string) (map[string]*ts.Tensor, map[string]string) {
	t.Helper()
	m, meta, err := nn.ReadSafetensors(path)
	require.NoError(t, err)
	return m, meta
}

// hfEvalLogits runs a classifier in eval mode without autograd.
func hfEvalLogits(t *testing.T, m nn.SequenceClassifier, ids, mask *ts.Tensor) *ts.Tensor {
	t.Helper()
	var out *ts.Tensor
	nn.NoGrad(func() { out = m.Logits(ids, mask, false) })
	return out
}

// hfSameParams requires two models to hold the same tensor names with values equal within tol (tol 0: bit for bit).
func hfSameParams(t *testing.T, want, got any, tol float64) {
	t.Helper()
	wp, err := nn.Parameters(want)
	require.NoError(t, err)
	gp, err := nn.Parameters(got)
	require.NoError(t, err)
	require.Len(t, gp, len(wp))
	for i := range wp {
		require.Equal(t, wp[i].Name, gp[i].Name)
		if tol == 0 {
			require.True(t, sameBits(values(wp[i].Tensor), values(gp[i].Tensor)), "tensor %s", wp[i].Name)
		} else {
			require.Less(t, hfMaxDiff(wp[i].Tensor, gp[i].Tensor), tol, "tensor %s", wp[i].Name)
		}
	}
}

// hfRounded returns a copy of t rounded to dtype and back to fp32.
func hfRounded(t *ts.Tensor, dt gotch.DType) *ts.Tensor {
	return t.MustTotype(dt, false).MustTotype(gotch.Float, true)
}

// hfCheckRounded requires every tensor of got to equal the matching tensor of want rounded to dt.
func hfCheckRounded(t *testing.T, want, got any, dt gotch.DType) {
	t.Helper()
	wp, err := nn.Parameters(want)
	require.NoError(t, err)
	gp, err := nn.Parameters(got)
	require.NoError(t, err)
	require.Len(t, gp, len(wp))
	for i := range wp {
		require.Equal(t, gotch.Float, gp[i].Tensor.DType())
		r := hfRounded(wp[i].Tensor, dt)
		require.True(t, sameBits(values(r), values(gp[i].Tensor)), "tensor %s", wp[i].Name)
		r.MustDrop()
	}
}

// hfStateNames returns the sorted tensor names of a safetensors file.
func hfStateNames(t *testing.T, path string) []string {
	t.Helper()
	st, err := nn.OpenSafetensors(path)
	require.NoError(t, err)
	defer st.Close()
	return st.Names()
}

// hfParamNames returns the sorted checkpoint names of a model's tensors.
func hfParamNames(t *testing.T, model any) []string {
	t.Helper()
	ps, err := nn.Parameters(model)
	require.NoError(t, err)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// hfRenameKey copies the model directory src to a new directory whose model.safetensors has the tensor from
// renamed to to.
func hfRenameKey(t *testing.T, src, from, to string) string {
	t.Helper()
	dst := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(src, nn.HFConfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dst, nn.HFConfigFile), cfg, 0o644))
	st, err := nn.OpenSafetensors(filepath.Join(src, nn.HFSafetensorsFile))
	require.NoError(t, err)
	defer st.Close()
	var out []nn.NamedTensor
	found := false
	for _, n := range st.Names() {
		x, err := st.Tensor(n)
		require.NoError(t, err)
		if n == from {
			n, found = to, true
		}
		out = append(out, nn.NamedTensor{Name: n, Tensor: x})
	}
	require.True(t, found, "no tensor %s in %s", from, src)
	require.NoError(t, nn.WriteSafetensors(filepath.Join(dst, nn.HFSafetensorsFile), out, st.Metadata))
	return dst
}

// hfStepCase describes one LoRA+ training step on a tiny classifier, compared with PEFT + torch AdamW.
type hfStepCase struct {
	arch    string // argument of hf_tiny.py
	dir     string // the fixture directory written by hf_tiny.py make
	model   nn.SequenceClassifier
	targets []string
	head    []string // PEFT modules_to_save
}

// hfTrainStep wraps the model with LoRA adapters (random B so that every factor has a gradient), trains the head
// with them, takes one AdamW step with the four LoRA+ groups on the cross-entropy of the fixture batch, and
// compares the loss, every gradient and every trained tensor with the reference.
func hfTrainStep(t *testing.T, c hfStepCase) {
	cfg := loraplus.DefaultConfig(c.targets...)
	cfg.Rank, cfg.Alpha, cfg.Seed = 4, 8, 3
	lm, err := loraplus.Wrap(c.model, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range lm.Params {
		if p.Kind == loraplus.KindLoRAB {
			v := nn.Normal(rng, p.Tensor.MustSize(), 0, 0.1, gotch.CPU)
			d := p.Tensor.MustDetach(false)
			d.Copy_(v)
			d.MustDrop()
			v.MustDrop()
		}
	}
	for _, h := range c.model.Head() {
		require.NoError(t, lm.AddTrainable(h.Name, h.Tensor))
	}
	require.NoError(t, lm.CheckFrozen())
	var init []nn.NamedTensor
	for _, p := range lm.Params {
		init = append(init, nn.NamedTensor{Name: p.Name, Tensor: p.Tensor})
	}
	require.NoError(t, nn.WriteSafetensors(filepath.Join(c.dir, "init.safetensors"), init, nil))
	oc := loraplus.DefaultOptimConfig(1e-3)
	oc.WeightDecay, oc.Beta2 = 0.01, 0.999
	job, err := json.Marshal(map[string]any{"r": cfg.Rank, "alpha": cfg.Alpha, "targets": c.targets, "head": c.head,
		"lr": oc.LR, "ratio": oc.Ratio, "weight_decay": oc.WeightDecay, "beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, "job.json"), job, 0o644))
	reftest.Run(t, "hf_tiny.py", "train", c.arch, c.dir)
	ref, meta := hfReadAll(t, filepath.Join(c.dir, "out.safetensors"))
	batch, _ := hfReadAll(t, filepath.Join(c.dir, "ref.safetensors"))

	opt, err := lm.NewAdamW(oc)
	require.NoError(t, err)
	opt.ZeroGrad()
	logits := c.model.Logits(batch["ids"], batch["mask"], true)
	loss := logits.MustCrossEntropyLoss(batch["labels"], ts.None, ts.ReductionMean, -100, 0, true)
	loss.MustBackward()
	assert.InDelta(t, values(ref["loss"])[0], values(loss)[0], 1e-5, "loss")
	for _, p := range lm.Params {
		g := p.Tensor.MustGrad(false)
		r, ok := ref["grad."+p.Name]
		require.True(t, ok, "reference has no gradient of %s", p.Name)
		requireClose(t, values(r), values(g), 1e-5, "gradient of %s", p.Name)
		g.MustDrop()
	}
	require.NoError(t, opt.Step(1))
	t.Logf("loss %.6f (reference %.6f)", values(loss)[0], values(ref["loss"])[0])

	var groups map[string][]string
	require.NoError(t, json.Unmarshal([]byte(meta["groups"]), &groups))
	for _, g := range opt.Groups() {
		var names []string
		for _, p := range g.Params {
			names = append(names, p.Name)
		}
		assert.ElementsMatch(t, groups[g.Name], names, "group %s", g.Name)
	}
	require.Len(t, ref, 2*len(lm.Params)+1, "the reference trains the same tensors (each with its gradient, plus the loss)")
	for _, p := range lm.Params {
		r, ok := ref[p.Name]
		require.True(t, ok, "reference has no %s", p.Name)
		assert.Less(t, hfMaxDiff(p.Tensor, r), 1e-5, "%s after the step", p.Name)
	}
}

func TestOpenHFDirErrors(t *testing.T) {
	hfLock(t)
	x := f32([]int64{2}, []float32{1, 2})
	for _, tc := range []struct {
		name  string
		files map[string]string // file → JSON content ("" for a safetensors file holding "a")
		want  []string
	}{
		{"no checkpoint", map[string]string{"config.json": "{}"}, []string{"no checkpoint", nn.HFSafetensorsFile}},
		{"bad index", map[string]string{nn.HFSafetensorsIndexFile: "{"}, []string{nn.HFSafetensorsIndexFile}},
		{"empty index", map[string]string{nn.HFSafetensorsIndexFile: `{"weight_map": {}}`}, []string{"empty or missing weight_map"}},
		{"missing shard", map[string]string{nn.HFSafetensorsIndexFile: `{"weight_map": {"a": "s1.safetensors"}}`},
			[]string{nn.HFSafetensorsIndexFile, "s1.safetensors"}},
		{"shard path", map[string]string{nn.HFSafetensorsIndexFile: `{"weight_map": {"a": "../s1.safetensors"}}`},
			[]string{`"a"`, "plain file name"}},
		{"corrupt bin", map[string]string{nn.HFBinFile: "not a pickle"}, []string{nn.HFBinFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, c := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644))
			}
			_, err := nn.OpenHFDir(dir)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("index names a tensor its shard lacks", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, nn.WriteSafetensors(filepath.Join(dir, "s1.safetensors"), []nn.NamedTensor{{Name: "a", Tensor: x}}, nil))
		require.NoError(t, os.WriteFile(filepath.Join(dir, nn.HFSafetensorsIndexFile),
			[]byte(`{"metadata": {}, "weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}}`), 0o644))
		d, err := nn.OpenHFDir(dir)
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
		_, err := nn.OpenHFDir(filepath.Join(t.TempDir(), "nope"))
		require.Error(t, err)
	})
}

func TestReadHFConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, nn.HFConfigFile)
	require.NoError(t, os.WriteFile(path, []byte(`{"model_type": "gpt2", "n_embd": 64, "n_head": 4, "pad_token_id": 7,
		"id2label": {"0": "neg", "1": "neu", "2": "pos"}}`), 0o644))
	c, err := nn.ReadGPT2Config(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(64), c.NEmbd)
	assert.Equal(t, int64(4), c.NHead)
	assert.Equal(t, int64(12), c.NLayer, "absent keys keep transformers' defaults")
	assert.Equal(t, int64(256), c.Inner())
	assert.Equal(t, 3, c.NumLabels())
	require.NotNil(t, c.PadTokenID)
	assert.Equal(t, int64(7), *c.PadTokenID)
	assert.Equal(t, 2, nn.HFConfig{}.NumLabels())

	for _, tc := range []struct{ name, json, want string }{
		{"bad json", `{"n_embd": "x"}`, nn.HFConfigFile},
		{"heads", `{"n_embd": 30, "n_head": 4}`, "multiple of n_head"},
		{"activation", `{"activation_function": "swish2"}`, "swish2"},
		{"dropout", `{"resid_pdrop": 1}`, "dropout"},
		{"size", `{"n_layer": 0}`, "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(tc.json), 0o644))
			_, err := nn.ReadGPT2Config(dir)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, path)
		})
	}
	_, err = nn.ReadGPT2Config(t.TempDir())
	require.Error(t, err, "no config.json")
}
