package instruct_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/llama/instruct"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// instructTiny writes the tiny random Llama of llama_instruct_tiny.py (Llama-2 vocabulary) into dir/model and
// returns the Llama-2 tokenizer directory.
func instructTiny(t *testing.T, dir string) string {
	t.Helper()
	reftest.Run(t, "llama_instruct_tiny.py", "model", filepath.Join(dir, "model"))
	tok := filepath.Join(reftest.Root(t), "..", "shared", "data", "tokenizers", "llama2")
	_, err := os.Stat(filepath.Join(tok, "tokenizer.model"))
	require.NoError(t, err, "the shared Llama-2 tokenizer is missing: want %s/tokenizer.model", tok)
	return tok
}

func instructSample(t *testing.T) string {
	return filepath.Join(reftest.Root(t), "llama", "instruct", "testdata", "instruct_sample.jsonl")
}

// TestInstructParity checks the masked loss against transformers' LlamaForCausalLM loss with labels -100 on the
// prompt and padding, and one LoRA+ step against PEFT + torch AdamW over the official LoRA+ groups.
func TestInstructParity(t *testing.T) {
	runtime.LockOSThread()
	dir := t.TempDir()
	tokDir := instructTiny(t, dir)
	tok, err := tokenizer.Load(tokDir)
	require.NoError(t, err)
	examples, rep, err := instruct.LoadData(instructSample(t), tok, instruct.DataOptions{MaxLen: 48, Limit: 4})
	require.NoError(t, err)
	require.Len(t, examples, 4)
	require.Equal(t, 4, rep.Examples)
	// every example has a masked prompt and trained targets
	for _, e := range examples {
		assert.Equal(t, instruct.IgnoreIndex, e.Labels[1])
		assert.Positive(t, e.Trained())
	}
	ids, mask, labels := instruct.Batch(examples, 0)
	require.NoError(t, weights.WriteSafetensors(filepath.Join(dir, "batch.safetensors"),
		[]nn.NamedTensor{{Name: "ids", Tensor: ids}, {Name: "mask", Tensor: mask}, {Name: "labels", Tensor: labels}}, nil))

	m, err := nnllama.Load(filepath.Join(dir, "model"), nnllama.Options{})
	require.NoError(t, err)
	base := instruct.Loss(m, ids, mask, labels, false)
	baseLoss := base.Float64Values(true)[0]

	lc := loraplus.DefaultConfig(instruct.Targets...)
	lc.Rank, lc.Alpha = 4, 16
	lm, err := loraplus.Wrap(m, lc)
	require.NoError(t, err)
	require.NoError(t, nn.ManualSeed(3))
	for _, p := range lm.Params {
		if p.Kind == loraplus.KindLoRAB { // B = 0 would leave A without gradient
			r := ts.MustRandn(p.Tensor.MustSize(), gotch.Float, gotch.CPU).MustMulScalar(ts.FloatScalar(0.1), true)
			d := p.Tensor.MustDetach(false)
			d.Copy_(r)
			d.MustDrop()
			r.MustDrop()
		}
	}
	oc := loraplus.DefaultOptimConfig(2e-4)
	oc.Beta2, oc.WeightDecay = 0.999, 0.01
	require.NoError(t, lm.SaveAdapter(filepath.Join(dir, "adapter"), loraplus.AdapterOptions{TaskType: instruct.TaskType, Optim: &oc}))
	job, err := json.Marshal(map[string]float64{"lr": oc.LR, "ratio": oc.Ratio, "lr_embedding": oc.LREmbedding,
		"beta1": oc.Beta1, "beta2": oc.Beta2, "eps": oc.Eps, "weight_decay": oc.WeightDecay})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "job.json"), job, 0o644))
	reftest.Run(t, "llama_instruct_tiny.py", "ref", dir)

	opt, err := lm.NewAdamW(oc)
	require.NoError(t, err)
	opt.ZeroGrad()
	loss := instruct.Loss(m, ids, mask, labels, true)
	lossV := loss.Float64Values()[0]
	loss.MustBackward()
	loss.MustDrop()
	require.NoError(t, opt.Step(1))

	ref, _, err := weights.ReadSafetensors(filepath.Join(dir, "out.safetensors"))
	require.NoError(t, err)
	assert.InDelta(t, ref["base_loss"].Float64Values()[0], baseLoss, 1e-5, "masked loss without adapters")
	assert.InDelta(t, ref["loss"].Float64Values()[0], lossV, 1e-5, "masked loss with adapters")
	require.Len(t, ref, len(lm.Params)+2, "PEFT trains the same tensors")
	for _, p := range lm.Params {
		want, ok := ref[p.Name]
		require.True(t, ok, "PEFT has no %s", p.Name)
		diff := want.MustSub(p.Tensor.MustDetach(false), false).MustAbs(true).MustMax(true).Float64Values(true)[0]
		assert.Less(t, diff, 1e-5, "%s after one LoRA+ step", p.Name)
	}
}
