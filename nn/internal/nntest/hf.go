package nntest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// Lock keeps the test's goroutine on one OS thread, where libtorch keeps its grad mode.
func Lock(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

// MaxDiff returns max |a − b| over all elements, +Inf when the shapes differ.
func MaxDiff(a, b *ts.Tensor) float64 {
	if !assert.ObjectsAreEqual(a.MustSize(), b.MustSize()) {
		return math.Inf(1)
	}
	av, bv := Values(a), Values(b)
	m := 0.0
	for i := range av {
		m = math.Max(m, math.Abs(av[i]-bv[i]))
	}
	return m
}

// ReadAll reads a safetensors file of the test's fixtures.
func ReadAll(t *testing.T, path string) (map[string]*ts.Tensor, map[string]string) {
	t.Helper()
	m, meta, err := weights.ReadSafetensors(path)
	require.NoError(t, err)
	return m, meta
}

// EvalLogits runs a classifier in eval mode without autograd.
func EvalLogits(t *testing.T, m nn.SequenceClassifier, ids, mask *ts.Tensor) *ts.Tensor {
	t.Helper()
	var out *ts.Tensor
	nn.NoGrad(func() { out = m.Logits(ids, mask, false) })
	return out
}

// SameParams requires two models to hold the same tensor names with values equal within tol (tol 0: bit for bit).
func SameParams(t *testing.T, want, got any, tol float64) {
	t.Helper()
	wp, err := nn.Parameters(want)
	require.NoError(t, err)
	gp, err := nn.Parameters(got)
	require.NoError(t, err)
	require.Len(t, gp, len(wp))
	for i := range wp {
		require.Equal(t, wp[i].Name, gp[i].Name)
		if tol == 0 {
			require.True(t, SameBits(Values(wp[i].Tensor), Values(gp[i].Tensor)), "tensor %s", wp[i].Name)
		} else {
			require.Less(t, MaxDiff(wp[i].Tensor, gp[i].Tensor), tol, "tensor %s", wp[i].Name)
		}
	}
}

// Rounded returns a copy of t rounded to dtype and back to fp32.
func Rounded(t *ts.Tensor, dt gotch.DType) *ts.Tensor {
	return t.MustTotype(dt, false).MustTotype(gotch.Float, true)
}

// CheckRounded requires every tensor of got to equal the matching tensor of want rounded to dt.
func CheckRounded(t *testing.T, want, got any, dt gotch.DType) {
	t.Helper()
	wp, err := nn.Parameters(want)
	require.NoError(t, err)
	gp, err := nn.Parameters(got)
	require.NoError(t, err)
	require.Len(t, gp, len(wp))
	for i := range wp {
		require.Equal(t, gotch.Float, gp[i].Tensor.DType())
		r := Rounded(wp[i].Tensor, dt)
		require.True(t, SameBits(Values(r), Values(gp[i].Tensor)), "tensor %s", wp[i].Name)
		r.MustDrop()
	}
}

// StateNames returns the sorted tensor names of a safetensors file.
func StateNames(t *testing.T, path string) []string {
	t.Helper()
	st, err := weights.OpenSafetensors(path)
	require.NoError(t, err)
	defer st.Close()
	return st.Names()
}

// ParamNames returns the sorted checkpoint names of a model's tensors.
func ParamNames(t *testing.T, model any) []string {
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

// RenameKey copies the model directory src to a new directory whose model.safetensors has the tensor from
// renamed to to.
func RenameKey(t *testing.T, src, from, to string) string {
	t.Helper()
	dst := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(src, weights.ConfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dst, weights.ConfigFile), cfg, 0o644))
	st, err := weights.OpenSafetensors(filepath.Join(src, weights.SafetensorsFile))
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
	require.NoError(t, weights.WriteSafetensors(filepath.Join(dst, weights.SafetensorsFile), out, st.Metadata))
	return dst
}

// StepCase describes one LoRA+ training step on a tiny classifier, compared with PEFT + torch AdamW.
type StepCase struct {
	Arch    string // argument of hf_tiny.py
	Dir     string // the fixture directory written by hf_tiny.py make
	Model   nn.SequenceClassifier
	Targets []string
	Head    []string // PEFT modules_to_save
}

// TrainStep wraps the model with LoRA adapters (random B so that every factor has a gradient), trains the head
// with them, takes one AdamW step with the four LoRA+ groups on the cross-entropy of the fixture batch, and
// compares the loss, every gradient and every trained tensor with the reference.
func TrainStep(t *testing.T, c StepCase) {
	cfg := loraplus.DefaultConfig(c.Targets...)
	cfg.Rank, cfg.Alpha, cfg.Seed = 4, 8, 3
	lm, err := loraplus.Wrap(c.Model, cfg)
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
	for _, h := range c.Model.Head() {
		require.NoError(t, lm.AddTrainable(h.Name, h.Tensor))
	}
	require.NoError(t, lm.CheckFrozen())
	var init []nn.NamedTensor
	for _, p := range lm.Params {
		init = append(init, nn.NamedTensor{Name: p.Name, Tensor: p.Tensor})
	}
	require.NoError(t, weights.WriteSafetensors(filepath.Join(c.Dir, "init.safetensors"), init, nil))
	oc := loraplus.DefaultOptimConfig(1e-3)
	oc.WeightDecay, oc.Beta2 = 0.01, 0.999
	job, err := json.Marshal(map[string]any{"r": cfg.Rank, "alpha": cfg.Alpha, "targets": c.Targets, "head": c.Head,
		"lr": oc.LR, "ratio": oc.Ratio, "lr_embedding": oc.LREmbedding, "weight_decay": oc.WeightDecay, "beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(c.Dir, "job.json"), job, 0o644))
	reftest.Run(t, "hf_tiny.py", "train", c.Arch, c.Dir)
	ref, meta := ReadAll(t, filepath.Join(c.Dir, "out.safetensors"))
	batch, _ := ReadAll(t, filepath.Join(c.Dir, "ref.safetensors"))

	opt, err := lm.NewAdamW(oc)
	require.NoError(t, err)
	opt.ZeroGrad()
	logits := c.Model.Logits(batch["ids"], batch["mask"], true)
	loss := logits.MustCrossEntropyLoss(batch["labels"], ts.None, ts.ReductionMean, -100, 0, true)
	loss.MustBackward()
	assert.InDelta(t, Values(ref["loss"])[0], Values(loss)[0], 1e-5, "loss")
	for _, p := range lm.Params {
		g := p.Tensor.MustGrad(false)
		r, ok := ref["grad."+p.Name]
		require.True(t, ok, "reference has no gradient of %s", p.Name)
		RequireClose(t, Values(r), Values(g), 1e-5, "gradient of %s", p.Name)
		g.MustDrop()
	}
	require.NoError(t, opt.Step(1))
	t.Logf("loss %.6f (reference %.6f)", Values(loss)[0], Values(ref["loss"])[0])

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
		assert.Less(t, MaxDiff(p.Tensor, r), 1e-5, "%s after the step", p.Name)
	}
}

// Params lists a model's tensors.
func Params(t *testing.T, model any) []nn.NamedTensor {
	t.Helper()
	p, err := nn.Parameters(model)
	require.NoError(t, err)
	return p
}

// Stddev returns the population standard deviation of v.
func Stddev(v []float64) float64 {
	var s, s2 float64
	for _, x := range v {
		s += x
		s2 += x * x
	}
	n := float64(len(v))
	return math.Sqrt(s2/n - (s/n)*(s/n))
}

// MaxAbs returns max |v[i]|.
func MaxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x, -x)
	}
	return m
}

// MaxAbsDiff returns max |a[i] − b[i]| over the elements of a.
func MaxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		d := a[i] - b[i]
		m = max(m, d, -d)
	}
	return m
}

// LoadClassifier builds a classifier from a model directory with load (gpt2.Load, roberta.Load), from the
// default options changed by edit (nil for none).
func LoadClassifier[M any](t *testing.T, load func(string, nn.ClassifierOptions) (M, error), dir string, edit func(*nn.ClassifierOptions)) M {
	t.Helper()
	o := nn.DefaultClassifierOptions()
	if edit != nil {
		edit(&o)
	}
	m, err := load(dir, o)
	require.NoError(t, err)
	return m
}

// TinyFixture writes the tiny random model of an architecture with hf_tiny.py make (every checkpoint layout
// under dir/st, dir/sharded, dir/bin, dir/binsharded) and returns dir and the reference batch and logits
// (ref.safetensors). It locks the test to its OS thread.
func TinyFixture(t *testing.T, arch string) (string, map[string]*ts.Tensor) {
	Lock(t)
	dir := t.TempDir()
	reftest.Run(t, "hf_tiny.py", "make", arch, dir)
	ref, _ := ReadAll(t, filepath.Join(dir, "ref.safetensors"))
	return dir, ref
}

// classifier is what the HF parity tests load: a sequence classifier that checks its inputs.
type classifier interface {
	nn.SequenceClassifier
	nn.InputChecker
}

// LayoutLogits loads the classifier of a TinyFixture folder from every checkpoint layout (safetensors, sharded
// safetensors, pytorch_model.bin, sharded .bin), checks its logits against transformers' (1e-4) and its tensors
// against st, the model loaded from dir/st.
func LayoutLogits[M classifier](t *testing.T, load func(string, nn.ClassifierOptions) (M, error), dir string, ref map[string]*ts.Tensor, st M) {
	ids, mask := ref["ids"], ref["mask"]
	for _, layout := range []string{"st", "sharded", "bin", "binsharded"} {
		t.Run("logits "+layout, func(t *testing.T) {
			m := LoadClassifier(t, load, filepath.Join(dir, layout), nil)
			require.NoError(t, m.CheckInputs(ids, mask))
			got := EvalLogits(t, m, ids, mask)
			assert.Equal(t, gotch.Float, got.DType())
			d := MaxDiff(got, ref["logits"])
			t.Logf("max |Go − transformers| = %.2g over logits %v", d, Values(ref["logits"]))
			assert.Less(t, d, 1e-4)
			SameParams(t, st, m, 0)
		})
	}
}

// HFFixture writes the tiny random model of arch with TinyFixture, loads it from its safetensors layout with
// load, and checks (as the subtest "state dict names") that the model's tensors carry exactly the checkpoint's
// names. It returns the fixture folder, the reference batch and logits, and the model.
func HFFixture[M classifier](t *testing.T, arch string, load func(string, nn.ClassifierOptions) (M, error)) (string, map[string]*ts.Tensor, M) {
	dir, ref := TinyFixture(t, arch)
	st := LoadClassifier(t, load, filepath.Join(dir, "st"), nil)
	t.Run("state dict names", func(t *testing.T) {
		assert.Equal(t, StateNames(t, filepath.Join(dir, "st", weights.SafetensorsFile)), ParamNames(t, st))
	})
	return dir, ref, st
}
