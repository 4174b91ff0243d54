package loraplus_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// doraTargets are the Linear layers of the toy net: a PyTorch Linear and a GPT-2 Conv1D (fan_in_fan_out).
var doraTargets = []string{"fc1", "fc2"}

func doraConfig(rank int, alpha float64, rslora bool, dropout float64) loraplus.Config {
	cfg := loraplus.DefaultConfig(doraTargets...)
	cfg.Rank, cfg.Alpha, cfg.RSLoRA, cfg.Dropout, cfg.DoRA = rank, alpha, rslora, dropout, true
	return cfg
}

// wrapDoRA attaches DoRA adapters, gives A and B random values and moves each magnitude away from its initial
// norm, so that every part of the adapter shows in the output and gets a gradient.
func wrapDoRA(t *testing.T, net *toyNet, cfg loraplus.Config) *loraplus.Model {
	m, err := loraplus.Wrap(net, cfg)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(cfg.Seed, 4))
	nn.NoGrad(func() {
		for _, p := range m.Params {
			v := nn.Normal(rng, p.Tensor.MustSize(), 0, 0.3, gotch.CPU)
			if p.Kind == loraplus.KindMagnitude {
				v = v.MustAdd(p.Tensor, true)
			}
			p.Tensor.Copy_(v)
			v.MustDrop()
		}
	})
	return m
}

func readOut(t *testing.T, dir string) map[string]*ts.Tensor {
	ref, _, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
	require.NoError(t, err)
	return ref
}

// The DoRA forward of a Linear and a Conv1D equals PEFT's (use_dora=True) in evaluation mode and in training
// mode: without dropout, and with dropout after seeding both libtorchs alike (the masks then match only if the
// dropped input feeds both the base term and the adapter, as in PEFT's DoraLinearVariant).
func TestDoRAForwardParityWithPEFT(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name    string
		rank    int
		alpha   float64
		rslora  bool
		dropout float64
	}{
		{"alpha/r", 4, 16, false, 0},
		{"rslora", 3, 8, true, 0},
		{"dropout 0.3", 4, 8, false, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const seed = 77
			dir := t.TempDir()
			net := newToyNet(7)
			m := wrapDoRA(t, net, doraConfig(tc.rank, tc.alpha, tc.rslora, tc.dropout))
			ids, target := toyData(7)
			writeToyJob(t, dir, net, m, ids, target, map[string]any{"dropout": tc.dropout, "seed": seed})
			reftest.Run(t, "dora_ref.py", "forward", dir)
			ref := readOut(t, dir)
			var eval, train float64
			nn.NoGrad(func() {
				eval = maxAbsDiff(net.forward(ids, false), ref["y_eval"])
				require.NoError(t, nn.ManualSeed(seed))
				train = maxAbsDiff(net.forward(ids, true), ref["y_train"])
			})
			assert.Less(t, eval, 1e-5, "max |Go − PEFT| in evaluation mode")
			assert.Less(t, train, 1e-5, "max |Go − PEFT| in training mode")
			if tc.dropout > 0 {
				assert.Greater(t, maxAbsDiff(ref["y_eval"], ref["y_train"]), 1e-3, "dropout is active in training mode")
			}
		})
	}
}

// The magnitudes start as PEFT initialises them: the L2 norm of each output row of W (of Wᵀ for the Conv1D fc2,
// whose square weight would give other values column-wise), B·A being zero at the start.
func TestDoRAMagnitudeInitMatchesPEFT(t *testing.T) {
	lockThread(t)
	for _, init := range []nn.LoRAInit{nn.InitBZero, nn.InitAZero} {
		t.Run(init.String(), func(t *testing.T) {
			dir := t.TempDir()
			net := newToyNet(4)
			cfg := doraConfig(4, 8, false, 0)
			cfg.Init = init
			m, err := loraplus.Wrap(net, cfg)
			require.NoError(t, err)
			ids, target := toyData(4)
			writeToyJob(t, dir, net, m, ids, target, map[string]any{})
			reftest.Run(t, "dora_ref.py", "init", dir)
			ref := readOut(t, dir)
			n := 0
			for _, p := range m.Params {
				if p.Kind != loraplus.KindMagnitude {
					continue
				}
				n++
				r, ok := ref[p.Name]
				require.True(t, ok, "reference has no %s", p.Name)
				assert.Less(t, maxAbsDiff(p.Tensor, r), 1e-6, p.Name)
				assert.True(t, p.Tensor.MustRequiresGrad(), p.Name)
			}
			assert.Equal(t, len(doraTargets), n)
		})
	}
}

// The gradients of A, B, the magnitude and the extra tensors equal PEFT's, with the weight norm detached.
func TestDoRAGradientParityWithPEFT(t *testing.T) {
	lockThread(t)
	dir := t.TempDir()
	net := newToyNet(9)
	m := wrapDoRA(t, net, doraConfig(4, 8, false, 0))
	extras := addToyExtras(t, net, m)
	ids, target := toyData(9)
	writeToyJob(t, dir, net, m, ids, target, map[string]any{"extras": extras})
	reftest.Run(t, "dora_ref.py", "grads", dir)
	ref := readOut(t, dir)

	y := net.forward(ids, true)
	loss := mse(y, target)
	y.MustDrop()
	loss.MustBackward()
	assert.InDelta(t, ref["loss"].Float64Values()[0], loss.Float64Values(true)[0], 1e-6, "loss")
	kinds := map[loraplus.Kind]int{}
	for _, p := range m.Params {
		r, ok := ref["grad/"+p.Name]
		require.True(t, ok, "reference has no gradient of %s", p.Name)
		g := p.Tensor.MustGrad(false)
		assert.Less(t, maxAbsDiff(g, r), 1e-5, "gradient of %s", p.Name)
		g.MustDrop()
		kinds[p.Kind]++
	}
	assert.Equal(t, map[loraplus.Kind]int{loraplus.KindLoRAA: 2, loraplus.KindLoRAB: 2, loraplus.KindMagnitude: 2,
		loraplus.KindExtra: len(extras)}, kinds)
}

// LoRA+ AdamW steps on a DoRA model equal torch.optim.AdamW on the official LoRA+ groups (the magnitude, 1-D, in
// group B) and PEFT's create_loraplus_optimizer; with LRMagnitude the magnitudes train in their own group.
func TestDoRAStepParityWithTorchAdamW(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name        string
		steps       int
		ratio, wd   float64
		lrMagnitude float64
	}{
		{"one step ratio16 decay", 1, 16, 0.05, 0},
		{"five steps ratio4", 5, 4, 0, 0},
		{"three steps magnitude lr", 3, 16, 0.01, 5e-3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			net := newToyNet(13)
			m := wrapDoRA(t, net, doraConfig(4, 8, false, 0))
			extras := addToyExtras(t, net, m)
			ids, target := toyData(13)
			oc := loraplus.DefaultOptimConfig(3e-3)
			oc.Ratio, oc.WeightDecay, oc.Beta2, oc.LRMagnitude = tc.ratio, tc.wd, 0.999, tc.lrMagnitude
			factors := make([]float64, tc.steps)
			for i := range factors {
				factors[i] = 1
			}
			writeToyJob(t, dir, net, m, ids, target, map[string]any{
				"steps": tc.steps, "lr": oc.LR, "ratio": oc.Ratio, "lr_embedding": oc.LREmbedding,
				"lr_magnitude": oc.LRMagnitude, "weight_decay": oc.WeightDecay, "beta1": oc.Beta1, "beta2": oc.Beta2,
				"eps": oc.Eps, "factors": factors, "extras": extras,
			})
			reftest.Run(t, "dora_ref.py", "train", dir)

			opt, err := m.NewAdamW(oc)
			require.NoError(t, err)
			for step := 0; step < tc.steps; step++ {
				opt.ZeroGrad()
				y := net.forward(ids, true)
				loss := mse(y, target)
				y.MustDrop()
				loss.MustBackward()
				loss.MustDrop()
				require.NoError(t, opt.Step(1))
			}
			got := map[string][]string{}
			for _, g := range opt.Groups() {
				for _, p := range g.Params {
					got[g.Name] = append(got[g.Name], p.Name)
				}
			}
			want := []string{"fc1.lora_magnitude_vector", "fc2.lora_magnitude_vector"}
			if tc.lrMagnitude > 0 {
				assert.Equal(t, want, got[loraplus.GroupMagnitude])
			} else {
				assert.Subset(t, got[loraplus.GroupB], want)
			}
			ref, meta, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
			require.NoError(t, err)
			oracles := []string{""}
			if tc.lrMagnitude == 0 {
				oracles = append(oracles, "peft/")
			}
			for _, prefix := range oracles {
				var refGroups map[string][]string
				require.NoError(t, json.Unmarshal([]byte(meta[prefix+"groups"]), &refGroups))
				for g, names := range refGroups {
					assert.ElementsMatch(t, names, got[g], "%sgroup %s", prefix, g)
				}
				for _, p := range m.Params {
					r, ok := ref[prefix+p.Name]
					require.True(t, ok, "reference has no %s", prefix+p.Name)
					assert.Less(t, maxAbsDiff(p.Tensor, r), 1e-5, "%s%s after %d steps", prefix, p.Name, tc.steps)
				}
			}
		})
	}
}

// A DoRA adapter saved by PEFT loads here, and one saved here loads in PEFT, with equal outputs; the config
// carries "use_dora": true and the magnitudes are saved as "base_model.model.<path>.lora_magnitude_vector".
func TestDoRAAdapterRoundTripWithPEFT(t *testing.T) {
	lockThread(t)
	t.Run("PEFT to Go", func(t *testing.T) {
		dir := t.TempDir()
		net := newToyNet(5)
		m := wrapDoRA(t, net, doraConfig(4, 8, false, 0))
		ids, target := toyData(5)
		writeToyJob(t, dir, net, m, ids, target, map[string]any{})
		reftest.Run(t, "dora_ref.py", "peft_save", dir)

		fresh := newToyNet(5)
		lm, err := loraplus.LoadAdapter(fresh, filepath.Join(dir, "adapter"))
		require.NoError(t, err)
		require.True(t, lm.Config.DoRA)
		assert.Len(t, lm.Params, 3*len(doraTargets), "lora_A, lora_B and the magnitude of each layer")
		ref := readOut(t, dir)
		var d float64
		nn.NoGrad(func() { d = maxAbsDiff(fresh.forward(ids, false), ref["y"]) })
		assert.Less(t, d, 1e-5)
	})
	t.Run("Go to PEFT", func(t *testing.T) {
		dir := t.TempDir()
		net := newToyNet(6)
		m := wrapDoRA(t, net, doraConfig(4, 8, false, 0))
		ids, target := toyData(6)
		writeToyJob(t, dir, newToyNet(6), m, ids, target, map[string]any{})
		oc := loraplus.DefaultOptimConfig(1e-4)
		oc.LRMagnitude = 1e-3
		adapter := filepath.Join(dir, "adapter")
		require.NoError(t, m.SaveAdapter(adapter, loraplus.AdapterOptions{Optim: &oc}))
		var cfg map[string]any
		data, err := os.ReadFile(filepath.Join(adapter, loraplus.AdapterConfigFile))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &cfg))
		assert.Equal(t, true, cfg["use_dora"])
		st, err := weights.OpenSafetensors(filepath.Join(adapter, loraplus.AdapterWeightsFile))
		require.NoError(t, err)
		assert.Contains(t, st.Names(), "base_model.model.fc2.lora_magnitude_vector")
		st.Close()

		reftest.Run(t, "dora_ref.py", "peft_load", dir)
		ref := readOut(t, dir)
		var d float64
		nn.NoGrad(func() { d = maxAbsDiff(net.forward(ids, false), ref["y"]) })
		assert.Less(t, d, 1e-5)
	})
}

// Merging a DoRA adapter folds m/‖W + s·B·A‖ ⊙ (W + s·B·A) into the weight, as PEFT's merge_and_unload does:
// the output is unchanged, and Unmerge restores the weight.
func TestDoRAMergeKeepsOutput(t *testing.T) {
	lockThread(t)
	dir := t.TempDir()
	net := newToyNet(8)
	m := wrapDoRA(t, net, doraConfig(4, 8, false, 0))
	ids, target := toyData(8)
	writeToyJob(t, dir, net, m, ids, target, map[string]any{})
	reftest.Run(t, "dora_ref.py", "merge", dir)
	ref := readOut(t, dir)
	nn.NoGrad(func() {
		w1, w2 := net.Fc1.Weight.MustMulScalar(ts.FloatScalar(1), false), net.Fc2.Weight.MustMulScalar(ts.FloatScalar(1), false)
		before := net.forward(ids, false)
		require.NoError(t, m.Merge())
		assert.Greater(t, maxAbsDiff(net.Fc2.Weight, w2), 1e-3, "merging changes the weight")
		assert.Less(t, maxAbsDiff(net.forward(ids, false), before), 1e-5, "merged output")
		assert.Less(t, maxAbsDiff(net.Fc1.Weight, ref["fc1.weight"]), 1e-5, "fc1 weight merged as PEFT merges it")
		assert.Less(t, maxAbsDiff(net.Fc2.Weight, ref["fc2.weight"]), 1e-5, "fc2 (Conv1D) weight merged as PEFT merges it")
		require.NoError(t, m.Unmerge())
		assert.Less(t, maxAbsDiff(net.Fc1.Weight, w1), 1e-5, "fc1 weight after Unmerge")
		assert.Less(t, maxAbsDiff(net.Fc2.Weight, w2), 1e-5, "fc2 weight after Unmerge")
		assert.Less(t, maxAbsDiff(net.forward(ids, false), before), 1e-5, "unmerged output")
	})
}

// The plan shows each magnitude as its own kind, in group B at lr·ratio by default or in its own group at
// LRMagnitude; DoRA on an Embedding and a negative LRMagnitude are errors.
func TestDoRAPlanAndErrors(t *testing.T) {
	lockThread(t)
	m, err := loraplus.Wrap(newToyNet(3), doraConfig(4, 8, false, 0))
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		lrMag float64
		group string
		lr    float64
	}{
		{"default", 0, loraplus.GroupB, 2e-4 * 16},
		{"own rate", 1e-2, loraplus.GroupMagnitude, 1e-2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oc := loraplus.DefaultOptimConfig(2e-4)
			oc.LRMagnitude = tc.lrMag
			plan, err := m.Plan(oc)
			require.NoError(t, err)
			n := 0
			for _, r := range plan.Rows {
				if r.Kind != loraplus.KindMagnitude {
					continue
				}
				n++
				assert.Equal(t, tc.group, r.Group, r.Name)
				assert.InDelta(t, tc.lr, r.LR, 1e-12, r.Name)
				assert.Equal(t, []int64{sizes.hidden}, r.Shape, r.Name)
			}
			assert.Equal(t, 2, n)
			assert.Contains(t, plan.String(), "dora_magnitude")
		})
	}
	cfg := doraConfig(4, 8, false, 0)
	cfg.Targets = []string{"emb"}
	_, err = loraplus.Wrap(newToyNet(3), cfg)
	require.ErrorContains(t, err, `target "emb": DoRA is supported on Linear layers only`)
	oc := loraplus.DefaultOptimConfig(2e-4)
	oc.LRMagnitude = -1
	_, err = m.Plan(oc)
	require.ErrorContains(t, err, "DoRA magnitude learning rate")
}
