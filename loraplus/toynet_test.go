package loraplus_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// toyNet mirrors ToyNet of scripts/reference/lora_ref.py: every kind of layer and every LoRA+ group.
type toyNet struct {
	Emb  *nn.Embedding `name:"emb"`
	Fc1  *nn.Linear    `name:"fc1"`
	Ln   *nn.LayerNorm `name:"ln"`
	Gate *ts.Tensor    `name:"gate"`
	Fc2  *nn.Linear    `name:"fc2"` // a Conv1D, as in GPT-2
	Head *nn.Linear    `name:"head"`
}

type toySizes struct{ vocab, dim, hidden, out, n, t int64 }

var sizes = toySizes{vocab: 11, dim: 6, hidden: 10, out: 3, n: 4, t: 5}

func newToyNet(seed uint64) *toyNet {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := func(std float64, shape ...int64) *ts.Tensor { return nn.Normal(rng, shape, 0, std, gotch.CPU) }
	s := sizes
	return &toyNet{
		Emb:  nn.NewEmbedding(r(1, s.vocab, s.dim)),
		Fc1:  nn.NewLinear(r(0.4, s.hidden, s.dim), r(0.1, s.hidden)),
		Ln:   nn.NewLayerNorm(nn.Normal(rng, []int64{s.hidden}, 1, 0.1, gotch.CPU), r(0.1, s.hidden), 1e-5),
		Gate: nn.Normal(rng, []int64{s.hidden}, 1, 0.1, gotch.CPU),
		Fc2:  nn.NewConv1D(r(0.3, s.hidden, s.hidden), r(0.1, s.hidden)),
		Head: nn.NewLinear(r(0.3, s.out, s.hidden), r(0.1, s.out)),
	}
}

// forward maps ids [N, T] to [N, T, out].
func (m *toyNet) forward(ids *ts.Tensor, train bool) *ts.Tensor {
	x := m.Emb.Forward(ids)
	h := m.Fc1.ForwardT(x, train).MustRelu(true)
	x.MustDrop()
	n := m.Ln.Forward(h)
	h.MustDrop()
	g := n.MustMul(m.Gate, true)
	f := m.Fc2.ForwardT(g, train)
	g.MustDrop()
	y := m.Head.ForwardT(f, train)
	f.MustDrop()
	return y
}

// toyData returns fixed ids [N, T] and targets [N, T, out].
func toyData(seed uint64) (*ts.Tensor, *ts.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 2))
	s := sizes
	ids := make([]int64, s.n*s.t)
	for i := range ids {
		ids[i] = rng.Int64N(s.vocab)
	}
	return ts.MustOfSlice(ids).MustView([]int64{s.n, s.t}, true), nn.Normal(rng, []int64{s.n, s.t, s.out}, 0, 1, gotch.CPU)
}

var toyTargets = []string{"emb", "fc1", "fc2"}

// wrapToy attaches adapters and, so that every factor has a gradient from the first step, replaces their
// zero factor with random values.
func wrapToy(t *testing.T, net *toyNet, cfg loraplus.Config) *loraplus.Model {
	m, err := loraplus.Wrap(net, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(cfg.Seed, 3))
	for _, p := range m.Params {
		v := nn.Normal(rng, p.Tensor.MustSize(), 0, 0.3, gotch.CPU)
		d := p.Tensor.MustDetach(false)
		d.Copy_(v)
		d.MustDrop()
		v.MustDrop()
	}
	return m
}

func addToyExtras(t *testing.T, net *toyNet, m *loraplus.Model) []string {
	extras := map[string]*ts.Tensor{"head.weight": net.Head.Weight, "head.bias": net.Head.Bias,
		"ln.weight": net.Ln.Weight, "ln.bias": net.Ln.Bias, "gate": net.Gate}
	var names []string
	for _, n := range []string{"head.weight", "head.bias", "ln.weight", "ln.bias", "gate"} {
		require.NoError(t, m.AddTrainable(n, extras[n]))
		names = append(names, n)
	}
	return names
}

// writeToyJob writes job.json, weights.safetensors (base and adapter tensors) and data.safetensors into dir.
func writeToyJob(t *testing.T, dir string, net *toyNet, m *loraplus.Model, ids, target *ts.Tensor, job map[string]any) {
	s := sizes
	job["vocab"], job["dim"], job["hidden"], job["out"] = s.vocab, s.dim, s.hidden, s.out
	job["r"], job["alpha"], job["rslora"], job["targets"] = m.Config.Rank, m.Config.Alpha, m.Config.RSLoRA, m.Config.Targets
	js, err := json.Marshal(job)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "job.json"), js, 0o644))
	params, err := nn.Parameters(net)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, p := range params {
		seen[p.Name] = true
	}
	for _, p := range m.Params {
		if !seen[p.Name] {
			params = append(params, nn.NamedTensor{Name: p.Name, Tensor: p.Tensor})
		}
	}
	require.NoError(t, weights.WriteSafetensors(filepath.Join(dir, "weights.safetensors"), params, nil))
	require.NoError(t, weights.WriteSafetensors(filepath.Join(dir, "data.safetensors"),
		[]nn.NamedTensor{{Name: "ids", Tensor: ids}, {Name: "target", Tensor: target}}, nil))
}

// maxAbsDiff returns max |a − b| over all elements, +Inf on a shape mismatch.
func maxAbsDiff(a, b *ts.Tensor) float64 {
	if !nn.SameShape(a.MustSize(), b.MustSize()) {
		return math.Inf(1)
	}
	av, bv := a.MustDetach(false).Float64Values(true), b.MustDetach(false).Float64Values(true)
	m := 0.0
	for i := range av {
		m = math.Max(m, math.Abs(av[i]-bv[i]))
	}
	return m
}

// lockThread keeps the test's goroutine on one OS thread, where libtorch keeps its grad mode.
func lockThread(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

func mse(y, target *ts.Tensor) *ts.Tensor { return y.MustMseLoss(target, ts.ReductionMean, false) }
