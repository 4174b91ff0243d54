package llama

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// Options choose how Load and LoadForSequenceClassification build a model.
type Options struct {
	// DType of the base weights: gotch.Float (also chosen by the zero value), gotch.BFloat16 or gotch.Half (CUDA).
	// Checkpoint tensors (dequantized to fp32 for GGUF) are converted to it one at a time as they load.
	DType gotch.DType
	// Device holds the model; the zero value means the CPU.
	Device gotch.Device
	// NumLabels is the number of classes of a sequence classifier; 0 takes config.json's (2 for GGUF files).
	NumLabels int
	// PadTokenID, when set, replaces the checkpoint's pad token id (-1 for none); the classifier pools the token
	// before the first pad id.
	PadTokenID *int
	// Seed seeds the initialisation of a classification head the checkpoint does not have.
	Seed uint64
}

// llamaCheckpoint is an opened checkpoint: its configuration and its tensors under Hugging Face names.
type llamaCheckpoint struct {
	cfg         *Config
	src         weights.Source
	freqFactors []float32 // GGUF rope_freqs, nil when absent
	close       func() error
}

// llamaOpen opens an HF directory or a GGUF file (see isGGUF).
func llamaOpen(path string) (*llamaCheckpoint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return llamaOpenHFDir(path)
	}
	if gguf.IsFile(path) {
		return llamaOpenGGUF(path)
	}
	return nil, fmt.Errorf("llama: %s: neither a Hugging Face model directory nor a GGUF file", path)
}

func llamaOpenHFDir(dir string) (*llamaCheckpoint, error) {
	cfg, err := ReadConfig(dir + string(os.PathSeparator) + weights.ConfigFile)
	if err != nil {
		return nil, err
	}
	src, err := weights.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	return &llamaCheckpoint{cfg: cfg, src: src, close: src.Close}, nil
}

// llamaRename maps checkpoint names to model names: a bare LlamaModel checkpoint (no "model." prefix) loads into
// the model's decoder.
func llamaRename(name string) string {
	if strings.HasPrefix(name, "model.") || name == "lm_head.weight" || strings.HasPrefix(name, "score.") {
		return name
	}
	return "model." + name
}

// llamaIgnore lists checkpoint tensors that no model needs: rotary buffers some older checkpoints saved.
var llamaIgnore = []string{"rotary_emb.inv_freq"}

// Load reads a Llama language model from a Hugging Face model directory (config.json and model.safetensors,
// sharded safetensors or pytorch_model.bin) or a GGUF file (hyperparameters from the llama.* metadata, every
// tensor dequantized to fp32, q/k rows un-permuted to Hugging Face's layout, and copied into the model one at a
// time). Without an lm_head (output.weight) the head is tied to the embeddings. Errors name the file, key or tensor.
func Load(path string, o Options) (*ForCausalLM, error) {
	ck, err := llamaOpen(path)
	if err != nil {
		return nil, err
	}
	defer ck.close()
	m, err := New(ck.cfg, o.llamaOptions())
	if err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	if err := ck.setFreqFactors(m.Model); err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	ignore := llamaIgnore
	if ck.cfg.TieWordEmbeddings {
		ignore = append([]string{"lm_head.weight"}, llamaIgnore...) // some tied checkpoints store the table twice
	}
	if err := weights.LoadState(m, ck.src, weights.LoadOptions{Ignore: ignore, Rename: llamaRename}); err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	return m, nil
}

// LoadForSequenceClassification reads a Llama classifier from the same sources as Load. The score head is loaded
// when the checkpoint has one (a LlamaForSequenceClassification checkpoint), else initialised as transformers
// does (N(0, initializer_range)) from o.Seed; a language model's lm_head is ignored.
func LoadForSequenceClassification(path string, o Options) (*ForSequenceClassification, error) {
	ck, err := llamaOpen(path)
	if err != nil {
		return nil, err
	}
	defer ck.close()
	cfg := *ck.cfg
	if o.NumLabels != 0 {
		cfg.NumLabels = o.NumLabels
	}
	if o.PadTokenID != nil {
		cfg.PadTokenID = *o.PadTokenID
	}
	m, err := NewForSequenceClassification(&cfg, o.llamaOptions())
	if err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	if err := ck.setFreqFactors(m.Model); err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	hasScore := false
	for _, n := range ck.src.Names() {
		hasScore = hasScore || n == "score.weight"
	}
	lo := weights.LoadOptions{Ignore: append([]string{"lm_head.weight"}, llamaIgnore...), Rename: llamaRename}
	if !hasScore {
		lo.Optional = []string{"score.weight"}
	}
	if err := weights.LoadState(m, ck.src, lo); err != nil {
		return nil, fmt.Errorf("llama: %s: %w", path, err)
	}
	if !hasScore {
		nn.FillNormal(m.Score.Weight, rand.New(rand.NewPCG(o.Seed, 0x6c6c616d61)), cfg.InitializerRange)
	}
	return m, nil
}

// llamaOptions returns the model-building part of the options.
func (o Options) llamaOptions() BuildOptions {
	return BuildOptions{DType: o.DType, Device: o.Device, loading: true}
}

// setFreqFactors hands GGUF's rope_freqs to the model's rotary embedding.
func (ck *llamaCheckpoint) setFreqFactors(m *Model) error {
	if ck.freqFactors == nil {
		return nil
	}
	return m.Rotary.SetFreqFactors(ck.freqFactors)
}
