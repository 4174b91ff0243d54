package loraplus_test

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// The forward of wrapped Linear, Conv1D and Embedding layers equals PEFT's on the same weights and input.
func TestForwardParityWithPEFT(t *testing.T) {
	lockThread(t)
	for _, tc := range []struct {
		name   string
		rslora bool
		alpha  float64
	}{{"alpha/r", false, 16}, {"rslora", true, 8}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			net := newToyNet(7)
			cfg := loraplus.DefaultConfig(toyTargets...)
			cfg.Rank, cfg.Alpha, cfg.RSLoRA = 4, tc.alpha, tc.rslora
			m := wrapToy(t, net, cfg)
			ids, target := toyData(7)
			writeToyJob(t, dir, net, m, ids, target, map[string]any{})
			reftest.Run(t, "lora_ref.py", "forward", dir)
			ref, _, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
			require.NoError(t, err)
			var d float64
			nn.NoGrad(func() { d = maxAbsDiff(net.forward(ids, false), ref["y"]) })
			assert.Less(t, d, 1e-5, "max |Go − PEFT| of the output")
		})
	}
}

// Training with the four LoRA+ groups for 20 AdamW steps gives the same tensors as torch.optim.AdamW with the
// groups of the official LoRA+ code, and as PEFT's create_loraplus_optimizer.
func TestTrainingParityWithTorchAdamW(t *testing.T) {
	lockThread(t)
	const steps = 20
	for _, tc := range []struct {
		name     string
		ratio    float64
		wd       float64
		schedule string
		warmup   int
		clip     float64
		rslora   bool
	}{
		{"ratio16 decay linear-warmup clip", 16, 0.05, "linear", 4, 0.5, false},
		{"ratio1 constant", 1, 0, "constant", 0, 0, false},
		{"ratio4 cosine rslora", 4, 0.01, "cosine", 2, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			net := newToyNet(11)
			cfg := loraplus.DefaultConfig(toyTargets...)
			cfg.Rank, cfg.Alpha, cfg.RSLoRA = 4, 8, tc.rslora
			m := wrapToy(t, net, cfg)
			addToyExtras(t, net, m)
			ids, target := toyData(11)
			oc := loraplus.DefaultOptimConfig(3e-3)
			oc.Ratio, oc.WeightDecay, oc.LREmbedding, oc.Beta2 = tc.ratio, tc.wd, 1e-2, 0.999
			sched, err := loraplus.ParseSchedule(tc.schedule, tc.warmup, steps)
			require.NoError(t, err)
			factors := make([]float64, steps)
			for i := range factors {
				factors[i] = sched.Factor(i)
			}
			writeToyJob(t, dir, net, m, ids, target, map[string]any{
				"steps": steps, "lr": oc.LR, "ratio": oc.Ratio, "lr_embedding": oc.LREmbedding,
				"weight_decay": oc.WeightDecay, "beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps,
				"factors": factors, "clip": tc.clip, "extras": []string{"head.weight", "head.bias", "ln.weight", "ln.bias", "gate"},
			})
			reftest.Run(t, "lora_ref.py", "train", dir)

			opt, err := m.NewAdamW(oc)
			require.NoError(t, err)
			losses := make([]float64, steps)
			for step := 0; step < steps; step++ {
				opt.ZeroGrad()
				y := net.forward(ids, true)
				loss := mse(y, target)
				y.MustDrop()
				loss.MustBackward()
				if tc.clip > 0 {
					loraplus.ClipGradNorm(m.Trainable(), tc.clip)
				}
				require.NoError(t, opt.Step(sched.Factor(step)))
				losses[step] = loss.Float64Values(true)[0]
			}

			ref, meta, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
			require.NoError(t, err)
			got := map[string][]string{}
			for _, g := range opt.Groups() {
				for _, p := range g.Params {
					got[g.Name] = append(got[g.Name], p.Name)
				}
			}
			// lora_ref.py trains the same start under both optimizers; PEFT's results carry the prefix "peft/".
			for _, oracle := range []struct{ name, prefix string }{
				{"official groups", ""},
				{"PEFT create_loraplus_optimizer", "peft/"},
			} {
				t.Run(oracle.name, func(t *testing.T) {
					groupsJSON, ok := meta[oracle.prefix+"groups"]
					require.True(t, ok, "reference has no metadata %q", oracle.prefix+"groups")
					var refGroups map[string][]string
					require.NoError(t, json.Unmarshal([]byte(groupsJSON), &refGroups))
					for g := range refGroups {
						sort.Strings(refGroups[g])
						sort.Strings(got[g])
						assert.ElementsMatch(t, refGroups[g], got[g], "group %s", g)
					}
					for _, p := range m.Params {
						r, ok := ref[oracle.prefix+p.Name]
						require.True(t, ok, "reference has no %s", oracle.prefix+p.Name)
						assert.Less(t, maxAbsDiff(p.Tensor, r), 1e-5, "tensor %s after %d steps", p.Name, steps)
					}
					refLoss, ok := ref[oracle.prefix+"loss"]
					require.True(t, ok, "reference has no %s", oracle.prefix+"loss")
					refLosses := refLoss.Float64Values()
					require.Len(t, refLosses, steps)
					for i := range losses {
						assert.InDelta(t, refLosses[i], losses[i], 1e-5, "loss at step %d", i)
					}
				})
			}
			assert.Less(t, losses[steps-1], losses[0], "training lowers the loss")
		})
	}
}

// An adapter saved by PEFT loads here, and one saved here loads in PEFT, with equal outputs.
func TestPEFTAdapterRoundTrip(t *testing.T) {
	lockThread(t)
	t.Run("PEFT to Go", func(t *testing.T) {
		dir := t.TempDir()
		net := newToyNet(5)
		cfg := loraplus.DefaultConfig(toyTargets...)
		cfg.Rank, cfg.Alpha = 4, 8
		m := wrapToy(t, net, cfg)
		ids, target := toyData(5)
		writeToyJob(t, dir, net, m, ids, target, map[string]any{"extras_modules": []string{"head"}})
		reftest.Run(t, "lora_ref.py", "peft_save", dir)

		fresh := newToyNet(5) // same base weights, no adapter
		lm, err := loraplus.LoadAdapter(fresh, filepath.Join(dir, "adapter"))
		require.NoError(t, err)
		assert.Len(t, lm.Params, 2*len(toyTargets)+2, "LoRA factors plus head.weight and head.bias")
		ref, _, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
		require.NoError(t, err)
		var d float64
		nn.NoGrad(func() { d = maxAbsDiff(fresh.forward(ids, false), ref["y"]) })
		assert.Less(t, d, 1e-5)
	})
	t.Run("Go to PEFT", func(t *testing.T) {
		dir := t.TempDir()
		net := newToyNet(6)
		cfg := loraplus.DefaultConfig(toyTargets...)
		cfg.Rank, cfg.Alpha = 4, 8
		m := wrapToy(t, net, cfg)
		ids, target := toyData(6)
		base := newToyNet(6)
		writeToyJob(t, dir, base, m, ids, target, map[string]any{})
		oc := loraplus.DefaultOptimConfig(1e-4)
		require.NoError(t, m.SaveAdapter(filepath.Join(dir, "adapter"), loraplus.AdapterOptions{Optim: &oc}))
		reftest.Run(t, "lora_ref.py", "peft_load", dir)
		ref, _, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
		require.NoError(t, err)
		var d float64
		nn.NoGrad(func() { d = maxAbsDiff(net.forward(ids, false), ref["y"]) })
		assert.Less(t, d, 1e-5)
	})
}
