package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// The device check's comparison, run on the CPU: this project's LoRA+ steps on tiny GPT-2 and Llama models equal
// PyTorch + PEFT's within the check's tolerances in fp32 and with bf16 base weights, and the check fails when the
// Go side trains with another ratio (lr_B = lr_A) or another adapter scale.
func TestDeviceCheckComparesWithPEFT(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, kind := range []string{"gpt2", "llama"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			reftest.Run(t, "device_step.py", "make", kind, dir)
			init, _, err := weights.ReadSafetensors(filepath.Join(dir, "init.safetensors"))
			require.NoError(t, err)
			for _, dtype := range []string{"float32", "bfloat16"} {
				py := filepath.Join(dir, "py-"+dtype+".safetensors")
				reftest.Run(t, "device_step.py", "step", dir, "--dtype", dtype, "--out", py)
				ref, _, err := weights.ReadSafetensors(py)
				require.NoError(t, err)
				run := func(name string, edit func(job map[string]any)) CheckRow {
					d := dir
					if edit != nil {
						d = filepath.Join(t.TempDir(), name)
						require.NoError(t, os.CopyFS(d, os.DirFS(dir)))
						var job map[string]any
						require.NoError(t, readJSON(filepath.Join(d, "job.json"), &job))
						edit(job)
						b, err := json.Marshal(job)
						require.NoError(t, err)
						require.NoError(t, os.WriteFile(filepath.Join(d, "job.json"), b, 0o644))
					}
					out := filepath.Join(t.TempDir(), "go.safetensors")
					require.NoError(t, checkStep(d, "cpu", dtype, out))
					got, _, err := weights.ReadSafetensors(out)
					require.NoError(t, err)
					row := CheckRow{Kind: kind, DType: dtype}
					compareCheck(&row, got, ref, init)
					require.Empty(t, row.Error)
					return row
				}
				row := run("same", nil)
				assert.True(t, row.Passed, "%s %s: %+v", kind, dtype, row)
				if dtype == "float32" {
					assert.Less(t, row.Grad, 1e-5, "fp32 gradients")
				}
				ratio1 := run("ratio1", func(job map[string]any) { job["ratio"] = 1.0 })
				assert.False(t, ratio1.Passed, "%s %s with ratio 1 on the Go side: %+v", kind, dtype, ratio1)
				scale := run("alpha", func(job map[string]any) { job["alpha"] = job["alpha"].(float64) * 2 })
				assert.False(t, scale.Passed, "%s %s with twice the adapter scale: %+v", kind, dtype, scale)
				assert.Greater(t, scale.Grad, map[string]float64{"float32": tolFP32, "bfloat16": tolBF16Grad}[dtype])
			}
		})
	}
}

// The table names every row, its verdict and a failing comparison's error.
func TestCheckTable(t *testing.T) {
	var b bytes.Buffer
	writeCheckTable(&b, CheckReport{Device: "cuda", Rows: []CheckRow{
		{Kind: "gpt2", DType: "float32", Device: "cuda", Ref: "python on cuda", Loss: 1e-7, Passed: true},
		{Kind: "llama", DType: "bfloat16", Device: "cuda", Ref: "python on cuda", Grad: 0.3, Worst: "grad.x"},
		{Kind: "smollm2", DType: "float32", Device: "cuda", Error: "go on cuda: boom"},
	}})
	out := b.String()
	assert.Contains(t, out, "gpt2     float32   cuda    python on cuda")
	assert.Regexp(t, `llama .* FAIL +grad\.x`, out)
	assert.Contains(t, out, "ERROR go on cuda: boom")
	assert.Contains(t, out, "device check: FAILED")
}
