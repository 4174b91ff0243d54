package main

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// TestExportVariants exports the tiny Llamas of llama_tiny.py (vocabulary 128, width 64: every matrix row is
// whole Q8_0 blocks) with tied embeddings, q/k/v/o and MLP biases, linear and llama3 rope scaling, as hf and as
// gguf-q8_0, and checks them with one batch of export_check.py: transformers' logits of each HF export, gguf-py's
// bytes and transformers' logits of each GGUF.
func TestExportVariants(t *testing.T) {
	runtime.LockOSThread()
	ref := t.TempDir()
	reftest.Run(t, "llama_tiny.py", ref)
	ids := []int64{1, 5, 9, 17, 33, 64, 100, 127, 0, 42}
	cases := []struct {
		variant string
		gguf    bool // llama3 rope scaling has no GGUF form here
	}{{"tied", true}, {"bias", true}, {"linear", true}, {"llama3", false}}
	type result struct {
		want         []float32
		hfPy, ggufPy string
		hf, gguf     string
	}
	var jobs [][]string
	res := map[string]*result{}
	out := t.TempDir()
	for _, c := range cases {
		base := filepath.Join(ref, c.variant)
		adapter, want := makeAdapter(t, base, ids, 4, 0.1, "q_proj", "k_proj", "v_proj", "o_proj", "down_proj")
		r := &result{want: want, hf: filepath.Join(out, c.variant+"-hf"), gguf: filepath.Join(out, c.variant+".gguf"),
			hfPy: filepath.Join(out, c.variant+"-hf.safetensors"), ggufPy: filepath.Join(out, c.variant+"-gguf.safetensors")}
		res[c.variant] = r
		code, stderr := exportRun(t, "-model", base, "-adapter", adapter, "-out", r.hf, "-format", "hf")
		require.Equal(t, cli.ExitOK, code, stderr)
		jobs = append(jobs, []string{"hf", r.hf, idsArg(ids), r.hfPy})
		code, stderr = exportRun(t, "-model", base, "-adapter", adapter, "-out", r.gguf, "-format", "gguf-q8_0")
		if !c.gguf {
			require.Equal(t, cli.ExitError, code)
			require.Contains(t, stderr, `rope_scaling type "llama3"`)
			continue
		}
		require.Equal(t, cli.ExitOK, code, stderr)
		if c.variant == "tied" {
			jobs = append(jobs, []string{"gguf", r.gguf, r.hf, idsArg(ids), r.ggufPy})
		} else { // load_gguf builds neither biases nor rope scaling
			jobs = append(jobs, []string{"gguf-bytes", r.gguf, r.hf})
		}
	}
	reps := batch(t, jobs)
	for _, c := range cases {
		t.Run(c.variant, func(t *testing.T) {
			r := res[c.variant]
			d, _ := maxDiff(t, r.want, readLogits(t, r.hfPy))
			require.Less(t, d, 1e-4, "transformers' logits of the HF export")
			d, _ = maxDiff(t, r.want, loaded(t, r.hf, ids))
			require.Less(t, d, 1e-4, "nn/llama's logits of the HF export")
			if !c.gguf {
				return
			}
			var rep ggufCheck
			for i, j := range jobs {
				if j[0] != "hf" && j[1] == r.gguf {
					rep = checkReport(t, reps[i])
				}
			}
			require.NotEmpty(t, rep.Tensors)
			for name, x := range rep.Tensors {
				if len(name) > 7 && name[len(name)-7:] == ".weight" && x.Type != "F32" {
					require.Equal(t, "Q8_0", x.Type, name)
				}
			}
			_, hasOutput := rep.Tensors["output.weight"]
			require.Equal(t, c.variant != "tied", hasOutput)
			_, hasBias := rep.Tensors["blk.0.attn_q.bias"]
			require.Equal(t, c.variant == "bias", hasBias)
			if c.variant == "linear" {
				require.Equal(t, "linear", rep.Metadata["llama.rope.scaling.type"])
				require.Equal(t, 2.0, rep.Metadata["llama.rope.scaling.factor"])
			}
			goLogits := loaded(t, r.gguf, ids)
			d, scale := maxDiff(t, r.want, goLogits)
			t.Logf("%s q8_0: max |Δlogit| %.3g of max |logit| %.3g", c.variant, d, scale)
			require.Less(t, d, 6e-2*scale) // measured ≤ 2e-2: Q8_0 moves each weight by up to 1/254 of its block's max
			if c.variant == "tied" {
				d, _ = maxDiff(t, goLogits, readLogits(t, r.ggufPy))
				require.Less(t, d, 1e-4, "transformers on the GGUF (load_gguf) against nn/llama on it")
			}
		})
	}
}
