package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/fixture"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// copyDir copies the files of src into a new folder and returns it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}

func TestExportErrors(t *testing.T) {
	runtime.LockOSThread()
	base := t.TempDir()
	require.NoError(t, fixture.TinyLlama(base, fixture.LlamaConfig{Vocab: 32000, Hidden: 16, Intermediate: 32, Layers: 1, Heads: 4, KVHeads: 2, Positions: 32}, 1))
	adapter, _ := makeAdapter(t, base, llama2IDs, 2, 0.2, "q_proj", "v_proj")

	// an adapter file that lacks one key
	missing := copyDir(t, adapter)
	st, meta, err := weights.ReadSafetensors(filepath.Join(missing, "adapter_model.safetensors"))
	require.NoError(t, err)
	const dropped = "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"
	require.Contains(t, st, dropped)
	var keep []nn.NamedTensor
	for name, x := range st {
		if name != dropped {
			keep = append(keep, nn.NamedTensor{Name: name, Tensor: x})
		}
	}
	require.NoError(t, weights.WriteSafetensors(filepath.Join(missing, "adapter_model.safetensors"), keep, meta))

	// an adapter of a GPT-2 model
	gpt2 := copyDir(t, adapter)
	require.NoError(t, os.WriteFile(filepath.Join(gpt2, "adapter_config.json"),
		[]byte(`{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["c_attn", "c_proj"]}`), 0o644))

	notModel := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notModel, []byte("hello"), 0o644))
	exists := t.TempDir()

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no adapter config", []string{"-model", base, "-adapter", t.TempDir()}, cli.ExitError, []string{"adapter_config.json"}},
		{"missing key", []string{"-model", base, "-adapter", missing}, cli.ExitError, []string{"adapter_model.safetensors", "missing keys", dropped}},
		{"other architecture", []string{"-model", base, "-adapter", gpt2}, cli.ExitError, []string{gpt2, `"c_attn"`, "match no module"}},
		{"not a model", []string{"-model", notModel, "-adapter", adapter}, cli.ExitError, []string{notModel, "neither"}},
		{"out exists", []string{"-model", base, "-out", exists}, cli.ExitError, []string{exists, "already exists"}},
		{"bad format", []string{"-model", base, "-format", "gguf-q4_0"}, cli.ExitUsage, []string{"-format", "gguf-q4_0"}},
		{"bad shard size", []string{"-model", base, "-max-shard-size", "lots"}, cli.ExitUsage, []string{"-max-shard-size", "lots"}},
		{"no model", []string{"-adapter", adapter}, cli.ExitUsage, []string{"-model is required"}},
		{"bad dtype", []string{"-model", base, "-dtype", "int8"}, cli.ExitUsage, []string{"-dtype", "int8"}},
		{"dtype of gguf", []string{"-model", base, "-format", "gguf-q8_0", "-dtype", "bfloat16"}, cli.ExitUsage, []string{"-dtype bfloat16 applies to -format hf only"}},
	}
	for _, c := range cases {
		for _, format := range []string{"hf", "gguf-f16"} {
			t.Run(c.name+" "+format, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				args := append([]string{"-out", out, "-format", format}, c.args...)
				code, stderr := exportRun(t, args...)
				require.Equal(t, c.code, code, stderr)
				require.Regexp(t, "^export: ", stderr)
				for _, w := range c.want {
					require.Contains(t, stderr, w)
				}
				require.NoFileExists(t, out)
				entries, err := os.ReadDir(filepath.Dir(out))
				require.NoError(t, err)
				require.Empty(t, entries, "nothing, not even a temporary file, is left behind")
			})
		}
	}

	// a SentencePiece base whose added_tokens.json skips ids
	spmBase := copyDir(t, base)
	tokData, err := os.ReadFile(reftest.Shared(t, "tokenizers", "llama2", "tokenizer.model"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(spmBase, "tokenizer.model"), tokData, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(spmBase, "added_tokens.json"), []byte(`{"<tool>": 32005}`), 0o644))
	code, stderr := exportRun(t, "-model", spmBase, "-out", filepath.Join(t.TempDir(), "x.gguf"), "-format", "gguf-f16")
	require.Equal(t, cli.ExitError, code)
	require.Contains(t, stderr, filepath.Join(spmBase, "added_tokens.json")+`: added token "<tool>" has id 32005, want 32000`)

	// the same base and adapter export fine
	for _, format := range []string{"hf", "gguf-f16", "gguf-q8_0"} {
		out := filepath.Join(t.TempDir(), "out")
		code, stderr := exportRun(t, "-model", base, "-adapter", adapter, "-out", out, "-format", format)
		require.Equal(t, cli.ExitOK, code, stderr)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"2GB": 2e9, "100KB": 1e5, "1.5MiB": 3 << 19, "4096": 4096, "10 mb": 1e7} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "-1GB", "lots", "1e30GB"} {
		_, err := parseSize(in)
		require.Error(t, err, in)
	}
}

// TestRopeFreqs exports a GGUF base that carries llama.cpp's rope_freqs tensor (Llama 3.1 files): GGUF keeps it
// unchanged, and a Hugging Face export, which has no place for it, is refused naming it.
func TestRopeFreqs(t *testing.T) {
	runtime.LockOSThread()
	dir := t.TempDir()
	require.NoError(t, fixture.TinyLlama(dir, fixture.LlamaConfig{Vocab: 32000, Hidden: 16, Intermediate: 32, Layers: 1, Heads: 4, KVHeads: 2, Positions: 32}, 1))
	plain := filepath.Join(t.TempDir(), "plain.gguf")
	code, stderr := exportRun(t, "-model", dir, "-out", plain, "-format", "gguf-f16")
	require.Equal(t, cli.ExitOK, code, stderr)

	// the same file with rope_freqs added
	f, err := gguf.Open(plain)
	require.NoError(t, err)
	w := gguf.NewWriter()
	for _, kv := range f.KVs {
		require.NoError(t, w.Add(kv.Key, kv.Value))
	}
	for _, ti := range f.Tensors {
		raw, err := f.ReadRaw(ti.Name)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(ti.Name, ti.Type, ti.Shape(), raw))
	}
	require.NoError(t, f.Close())
	freqs := []float32{1, 4}
	require.NoError(t, w.AddTensor(ropeFreqs, gguf.TypeF32, []int{2}, gguf.EncodeF32(freqs)))
	base := filepath.Join(t.TempDir(), "base.gguf")
	require.NoError(t, weights.WriteGGUF(base, w))

	out := filepath.Join(t.TempDir(), "out.gguf")
	code, stderr = exportRun(t, "-model", base, "-out", out, "-format", "gguf-q8_0")
	require.Equal(t, cli.ExitOK, code, stderr)
	of, err := gguf.Open(out)
	require.NoError(t, err)
	defer of.Close()
	got, err := of.Float32(ropeFreqs)
	require.NoError(t, err)
	require.Equal(t, freqs, got)
	want := loaded(t, base, llama2IDs)
	d, scale := maxDiff(t, want, loaded(t, out, llama2IDs))
	require.Less(t, d, 3e-2*scale)

	hf := filepath.Join(t.TempDir(), "hf")
	code, stderr = exportRun(t, "-model", base, "-out", hf, "-format", "hf")
	require.Equal(t, cli.ExitError, code)
	require.Contains(t, stderr, base+": tensor rope_freqs.weight")
	require.NoDirExists(t, hf)
}

// TestInterrupted stops an export with SIGINT: the error wraps train.ErrInterrupted (exit status 130 through
// cli.Main) and no output, not even a temporary one, is left.
func TestInterrupted(t *testing.T) {
	runtime.LockOSThread()
	base := t.TempDir()
	require.NoError(t, fixture.TinyLlama(base, fixture.LlamaConfig{Vocab: 64, Hidden: 16, Intermediate: 32, Layers: 1, Heads: 4, KVHeads: 2, Positions: 32}, 1))
	sig := cli.NotifyInterrupts(func(os.Signal) {}, func(os.Signal) {})
	defer sig.Close()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	for deadline := time.Now().Add(5 * time.Second); !sig.Signalled(); {
		require.True(t, time.Now().Before(deadline), "no signal")
		time.Sleep(time.Millisecond)
	}
	for _, format := range []string{"hf", "gguf-q8_0"} {
		dir := t.TempDir()
		o := &options{model: base, out: filepath.Join(dir, "out"), format: format, maxShard: 1 << 30, dtype: "float32"}
		err := export(o, sig, io.Discard, io.Discard)
		require.ErrorIs(t, err, train.ErrInterrupted, format)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, format)
	}
}
