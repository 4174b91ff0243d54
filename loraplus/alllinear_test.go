package loraplus_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/roberta"
)

// target_modules "all-linear" adapts the modules PEFT adapts on the same tiny GPT-2, RoBERTa and Llama models
// (sequence classifiers, and Llama causal LMs with a tied and an untied lm_head).
func TestAllLinearMatchesPEFT(t *testing.T) {
	lockThread(t)
	dir := t.TempDir()
	reftest.Run(t, "gluecmd_tiny.py", "gpt2", filepath.Join(dir, "gpt2"))
	reftest.Run(t, "gluecmd_tiny.py", "roberta", filepath.Join(dir, "roberta"))
	reftest.Run(t, "llama_tiny.py", filepath.Join(dir, "llama"))
	for _, tc := range []struct {
		name, dir, task string
		load            func(dir string) (any, error)
	}{
		{"gpt2", "gpt2", "SEQ_CLS", func(d string) (any, error) {
			return gpt2.Load(d, nn.ClassifierOptions{NumLabels: 3, DType: gotch.Float, Device: gotch.CPU})
		}},
		{"roberta", "roberta", "SEQ_CLS", func(d string) (any, error) {
			return roberta.Load(d, nn.ClassifierOptions{NumLabels: 3, DType: gotch.Float, Device: gotch.CPU})
		}},
		{"llama seqcls", "llama/seqcls", "SEQ_CLS", func(d string) (any, error) {
			return llama.LoadForSequenceClassification(d, llama.Options{NumLabels: 3, DType: gotch.Float, Device: gotch.CPU})
		}},
		{"llama tied", "llama/tied", "CAUSAL_LM", func(d string) (any, error) {
			return llama.Load(d, llama.Options{DType: gotch.Float, Device: gotch.CPU})
		}},
		{"llama untied", "llama/untied", "CAUSAL_LM", func(d string) (any, error) {
			return llama.Load(d, llama.Options{DType: gotch.Float, Device: gotch.CPU})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.dir)
			want := strings.Fields(reftest.Run(t, "peft_all_linear.py", path, tc.task))
			require.NotEmpty(t, want)
			model, err := tc.load(path)
			require.NoError(t, err)
			got, err := loraplus.AllLinearTargets(model)
			require.NoError(t, err)
			slices.Sort(got)
			assert.Equal(t, want, got)

			cfg := loraplus.DefaultConfig("ALL-LINEAR")
			m, err := loraplus.Wrap(model, cfg)
			require.NoError(t, err)
			adapted := slices.Sorted(func(yield func(string) bool) {
				for p := range m.Adapted {
					if !yield(p) {
						return
					}
				}
			})
			assert.Equal(t, want, adapted, "Wrap with the all-linear shorthand")
			assert.ElementsMatch(t, want, m.Config.Targets, "the resolved paths are kept for the saved adapter")
		})
	}
}

func TestIsAllLinear(t *testing.T) {
	for _, tc := range []struct {
		targets []string
		want    bool
	}{
		{[]string{"all-linear"}, true},
		{[]string{"All-Linear"}, true},
		{[]string{"all-linear", "c_fc"}, false},
		{[]string{"all_linear"}, false},
		{nil, false},
	} {
		assert.Equal(t, tc.want, loraplus.IsAllLinear(tc.targets), "%q", tc.targets)
	}
}
