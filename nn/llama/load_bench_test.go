package llama_test

import (
	"runtime"
	"testing"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// BenchmarkLoadSmolLM2 loads the SmolLM2-135M-Instruct Q4_1 GGUF into an fp32 model.
func BenchmarkLoadSmolLM2(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	path := reftest.SmolLM2(b)
	for b.Loop() {
		if _, err := llama.Load(path, llama.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardSmolLM2 runs SmolLM2-135M (fp32, CPU) on one sequence of 32 tokens.
func BenchmarkForwardSmolLM2(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lm, err := llama.Load(reftest.SmolLM2(b), llama.Options{})
	if err != nil {
		b.Fatal(err)
	}
	v := make([]int64, 32)
	for i := range v {
		v[i] = int64(1000 + 37*i)
	}
	ids := ts.MustOfSlice(v).MustView([]int64{1, 32}, true)
	nn.NoGrad(func() {
		for b.Loop() {
			lm.Logits(ids, nil, false).MustDrop()
		}
	})
}
