package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// tokenizerFiles are the files of a Hugging Face base that an hf export copies when present.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
	"added_tokens.json", "generation_config.json"}

// ropeFreqs is llama.cpp's tensor of rotary frequency divisors (Llama 3.1 GGUF files).
const ropeFreqs = "rope_freqs.weight"

// errStopped is the error of an export stopped by a signal.
var errStopped = fmt.Errorf("%w: no output written", train.ErrInterrupted)

// export loads the base, merges the adapter and writes o.out in o.format; a signal seen by sig (nil for none)
// stops it between tensors with errStopped, leaving nothing behind.
func export(o *options, sig *cli.Interrupts, stdout, stderr io.Writer) error {
	stopped := func() bool { return sig != nil && sig.Signalled() }
	if _, err := os.Lstat(o.out); err == nil {
		return fmt.Errorf("%s already exists: choose a new -out", o.out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	lm, err := merged(o.model, o.adapter)
	if err != nil {
		return err
	}
	params, err := nn.Parameters(lm)
	if err != nil {
		return err
	}
	if stopped() {
		return errStopped
	}
	var base *gguf.File
	if fi, err := os.Stat(o.model); err == nil && !fi.IsDir() {
		if base, err = gguf.Open(o.model); err != nil {
			return err
		}
		defer base.Close()
	}
	if o.format == "hf" {
		if err := writeHF(o, &lm.Model.Config, params, base, stopped, stderr); err != nil {
			return err
		}
	} else if err := writeGGUF(o, &lm.Model.Config, params, base, stopped, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d tensors)\n", o.out, o.format, len(params))
	return nil
}

// merged loads the base in fp32 on the CPU and, when adapter is set, attaches the adapter and folds it into the
// base weights.
func merged(model, adapter string) (*nnllama.ForCausalLM, error) {
	lm, err := nnllama.Load(model, nnllama.Options{DType: gotch.Float, Device: gotch.CPU})
	if err != nil {
		return nil, err
	}
	if adapter == "" {
		return lm, nil
	}
	m, err := loraplus.LoadAdapter(lm, adapter)
	if err != nil {
		return nil, err
	}
	if err := m.Merge(); err != nil {
		return nil, fmt.Errorf("%s: merge: %w", adapter, err)
	}
	return lm, nil
}

// hfConfig is config.json as transformers writes it for a LlamaForCausalLM (the rope_theta and rope_scaling keys
// of transformers 4, which transformers 5 reads too), over the config.json of a Hugging Face base in baseDir (its
// bos/eos ids and the keys this package does not model are kept), with the bos/eos ids of a GGUF base.
func hfConfig(c *nnllama.Config, baseDir string, base *gguf.File, dtype string) (map[string]any, error) {
	m := map[string]any{}
	if baseDir != "" {
		path := filepath.Join(baseDir, weights.ConfigFile)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		delete(m, "rope_parameters") // transformers 5's form of rope_theta and rope_scaling, written below
		delete(m, "dtype")
		delete(m, "quantization_config")
	}
	if base != nil {
		p, err := base.LlamaParams()
		if err != nil {
			return nil, err
		}
		if p.Tokenizer.BOS >= 0 {
			m["bos_token_id"] = p.Tokenizer.BOS
		}
		if p.Tokenizer.EOS >= 0 {
			m["eos_token_id"] = p.Tokenizer.EOS
		}
	}
	var pad any
	if c.PadTokenID >= 0 {
		pad = c.PadTokenID
	}
	var rope any
	if rs := c.RopeScaling; rs != nil {
		r := map[string]any{"rope_type": rs.Type, "factor": rs.Factor}
		if rs.Type == "llama3" {
			r["low_freq_factor"], r["high_freq_factor"] = rs.LowFreqFactor, rs.HighFreqFactor
			r["original_max_position_embeddings"] = rs.OriginalMaxPositionEmbeddings
		}
		rope = r
	}
	for k, v := range map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama", "hidden_act": "silu",
		"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize, "intermediate_size": c.IntermediateSize,
		"num_hidden_layers": c.NumHiddenLayers, "num_attention_heads": c.NumAttentionHeads,
		"num_key_value_heads": c.NumKeyValueHeads, "head_dim": c.HeadDim(),
		"max_position_embeddings": c.MaxPositionEmbeddings, "rms_norm_eps": c.RMSNormEps, "rope_theta": c.RopeTheta,
		"rope_scaling": rope, "attention_bias": c.AttentionBias, "mlp_bias": c.MLPBias,
		"attention_dropout": c.AttentionDropout, "initializer_range": c.InitializerRange,
		"tie_word_embeddings": c.TieWordEmbeddings, "pad_token_id": pad, "torch_dtype": dtype,
	} {
		m[k] = v
	}
	if _, ok := m["use_cache"]; !ok {
		m["use_cache"] = true
	}
	return m, nil
}

// writeHF writes a Hugging Face model directory: built in a temporary folder beside o.out, renamed at the end.
func writeHF(o *options, c *nnllama.Config, params []nn.NamedTensor, base *gguf.File, stopped func() bool, stderr io.Writer) (err error) {
	if base != nil && hasTensor(base, ropeFreqs) {
		return fmt.Errorf("%s: tensor %s (rotary frequency factors) has no place in a Hugging Face config: export it as GGUF", o.model, ropeFreqs)
	}
	baseDir := ""
	if base == nil {
		baseDir = o.model
	}
	cfg, err := hfConfig(c, baseDir, base, o.dtype)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(o.out)), "."+filepath.Base(o.out)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := weights.WriteFileAtomic(filepath.Join(tmp, weights.ConfigFile), append(b, '\n')); err != nil {
		return err
	}
	if dt := hfDTypes[o.dtype]; dt != gotch.Float {
		cast := make([]nn.NamedTensor, len(params))
		for i, p := range params {
			cast[i] = nn.NamedTensor{Name: p.Name, Tensor: p.Tensor.MustTotype(dt, false)}
		}
		defer func() {
			for _, p := range cast {
				p.Tensor.MustDrop()
			}
		}()
		params = cast
	}
	if _, err := weights.WriteShardedSafetensors(tmp, params, o.maxShard); err != nil {
		return err
	}
	if stopped() {
		return errStopped
	}
	if baseDir != "" {
		for _, name := range tokenizerFiles {
			data, err := os.ReadFile(filepath.Join(baseDir, name))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			if err := weights.WriteFileAtomic(filepath.Join(tmp, name), data); err != nil {
				return err
			}
		}
	} else {
		fmt.Fprintf(stderr, "export: the tokenizer of %s is in its GGUF metadata: no tokenizer files written (use the GGUF file or the original model's tokenizer)\n", o.model)
	}
	return os.Rename(tmp, o.out)
}

func hasTensor(f *gguf.File, name string) bool {
	_, err := f.Tensor(name)
	return err == nil
}

// GGUF file types (llama_ftype) of general.file_type.
const (
	fileTypeF16  = 1
	fileTypeQ8_0 = 7
)

// writeGGUF writes a llama.cpp GGUF file with the hyperparameters of c, the tokenizer metadata of a GGUF base
// and params (Hugging Face names) converted as convert_hf_to_gguf.py converts them.
func writeGGUF(o *options, c *nnllama.Config, params []nn.NamedTensor, base *gguf.File, stopped func() bool, stderr io.Writer) error {
	q8 := o.format == "gguf-q8_0"
	if rs := c.RopeScaling; rs != nil && rs.Type != "linear" {
		return fmt.Errorf("%s: rope_scaling type %q cannot be written to GGUF by this command (linear only)", o.model, rs.Type)
	}
	w := gguf.NewWriter()
	name := strings.TrimSuffix(filepath.Base(filepath.Clean(o.model)), ".gguf")
	if base != nil {
		if n, err := base.String("general.name"); err == nil {
			name = n
		}
	}
	ftype := uint32(fileTypeF16)
	if q8 {
		ftype = fileTypeQ8_0
	}
	u := func(v int) gguf.Value { return gguf.Scalar(uint32(v)) }
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.Scalar("llama")},
		{Key: "general.name", Value: gguf.Scalar(name)},
		{Key: "general.file_type", Value: gguf.Scalar(ftype)},
		{Key: "general.quantization_version", Value: gguf.Scalar(uint32(2))},
		{Key: "llama.vocab_size", Value: u(c.VocabSize)},
		{Key: "llama.context_length", Value: u(c.MaxPositionEmbeddings)},
		{Key: "llama.embedding_length", Value: u(c.HiddenSize)},
		{Key: "llama.block_count", Value: u(c.NumHiddenLayers)},
		{Key: "llama.feed_forward_length", Value: u(c.IntermediateSize)},
		{Key: "llama.rope.dimension_count", Value: u(c.HeadDim())},
		{Key: "llama.attention.head_count", Value: u(c.NumAttentionHeads)},
		{Key: "llama.attention.head_count_kv", Value: u(c.NumKeyValueHeads)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: gguf.Scalar(float32(c.RMSNormEps))},
		{Key: "llama.rope.freq_base", Value: gguf.Scalar(float32(c.RopeTheta))},
	}
	if rs := c.RopeScaling; rs != nil {
		kvs = append(kvs, gguf.KV{Key: "llama.rope.scaling.type", Value: gguf.Scalar("linear")},
			gguf.KV{Key: "llama.rope.scaling.factor", Value: gguf.Scalar(float32(rs.Factor))})
	}
	if base != nil {
		for _, kv := range base.KVs {
			if strings.HasPrefix(kv.Key, "tokenizer.") {
				kvs = append(kvs, kv)
			}
		}
	} else {
		tok, err := spmTokenizerKVs(o.model, c)
		if err != nil {
			return err
		}
		if tok == nil {
			fmt.Fprintf(stderr, "export: %s has no tokenizer.model: %s gets no tokenizer.* metadata, which llama.cpp needs to run it\n", o.model, o.out)
		}
		kvs = append(kvs, tok...)
	}
	for _, kv := range kvs {
		if err := w.Add(kv.Key, kv.Value); err != nil {
			return fmt.Errorf("%s: %w", o.out, err)
		}
	}
	for _, p := range params {
		if stopped() {
			return errStopped
		}
		if err := addTensor(w, c, p, q8); err != nil {
			return fmt.Errorf("%s: %w", o.out, err)
		}
	}
	if base != nil && hasTensor(base, ropeFreqs) {
		ti, _ := base.Tensor(ropeFreqs)
		raw, err := base.ReadRaw(ropeFreqs)
		if err != nil {
			return err
		}
		if err := w.AddTensor(ropeFreqs, ti.Type, ti.Shape(), raw); err != nil {
			return err
		}
	}
	return weights.WriteGGUF(o.out, w)
}

// addTensor adds one Hugging Face parameter under its llama.cpp name: q_proj and k_proj rows permuted for ggml's
// rotary layout, 1-D tensors in F32, matrices in F16, or Q8_0 when q8 and their rows are whole blocks of 32.
func addTensor(w *gguf.Writer, c *nnllama.Config, p nn.NamedTensor, q8 bool) error {
	gname, ok := gguf.GGUFName(p.Name)
	if !ok {
		return fmt.Errorf("tensor %q has no llama.cpp name", p.Name)
	}
	v, shape, err := float32s(p.Tensor)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", p.Name, err)
	}
	switch {
	case strings.HasSuffix(p.Name, ".self_attn.q_proj.weight") || strings.HasSuffix(p.Name, ".self_attn.q_proj.bias"):
		v, err = gguf.PermuteRows(v, shape[0], c.NumAttentionHeads)
	case strings.HasSuffix(p.Name, ".self_attn.k_proj.weight") || strings.HasSuffix(p.Name, ".self_attn.k_proj.bias"):
		v, err = gguf.PermuteRows(v, shape[0], c.NumKeyValueHeads)
	}
	if err != nil {
		return fmt.Errorf("tensor %q: %w", p.Name, err)
	}
	typ, data := gguf.TypeF32, []byte(nil)
	switch {
	case len(shape) == 1:
		data = gguf.EncodeF32(v)
	case q8 && shape[len(shape)-1]%32 == 0:
		typ = gguf.TypeQ8_0
		if data, err = gguf.QuantizeQ8_0(v); err != nil {
			return err
		}
	default:
		typ, data = gguf.TypeF16, gguf.EncodeF16(v)
	}
	return w.AddTensor(gname, typ, shape, data)
}

// float32s copies a tensor's values to the host as float32, row-major, with its shape. The copy reads libtorch's
// buffer directly (gotch's CopyData checks every element through reflection, seconds for a 135M model).
func float32s(t *ts.Tensor) ([]float32, []int, error) {
	c := t.MustDetach(false).MustTo(gotch.CPU, true).MustTotype(gotch.Float, true).MustContiguous(true)
	defer c.MustDrop()
	n := int(c.Numel())
	v := make([]float32, n)
	if n > 0 {
		p, err := c.DataPtr()
		if err != nil {
			return nil, nil, err
		}
		copy(v, unsafe.Slice((*float32)(p), n))
	}
	var shape []int
	for _, d := range c.MustSize() {
		shape = append(shape, int(d))
	}
	return v, shape, nil
}
