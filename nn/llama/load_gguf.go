package llama

import (
	"fmt"
	"strconv"

	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// llamaShortest returns the float64 nearest to the shortest decimal that reads back as x, so that a float32
// hyperparameter such as 1e-5 becomes the 1e-5 of config.json rather than 9.99999974737875e-06.
func llamaShortest(x float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return v
}

// llamaConfigFromGGUF translates the llama.* hyperparameters into a Hugging Face configuration.
func llamaConfigFromGGUF(f *gguf.File, p *gguf.LlamaParams) (*Config, error) {
	c := DefaultConfig()
	c.VocabSize = p.VocabSize
	c.HiddenSize = p.EmbeddingLength
	c.IntermediateSize = p.FeedForwardLength
	c.NumHiddenLayers = p.BlockCount
	c.NumAttentionHeads = p.HeadCount
	c.NumKeyValueHeads = p.HeadCountKV
	c.MaxPositionEmbeddings = p.ContextLength
	c.RMSNormEps = llamaShortest(p.RMSNormEps)
	c.RopeTheta = llamaShortest(p.RopeFreqBase)
	c.TieWordEmbeddings = p.TieWordEmbeddings
	c.PadTokenID = p.Tokenizer.PAD
	if p.EmbeddingLength%p.HeadCount != 0 || p.HeadDim != p.EmbeddingLength/p.HeadCount {
		return nil, fmt.Errorf("llama: %s: llama.attention.key_length %d differs from embedding_length/head_count, which is not supported",
			f.Path, p.HeadDim)
	}
	if p.RopeDimensionCount != p.HeadDim {
		return nil, fmt.Errorf("llama: %s: llama.rope.dimension_count %d differs from the head dimension %d (partial rotary embeddings are not supported)",
			f.Path, p.RopeDimensionCount, p.HeadDim)
	}
	switch rs := p.RopeScaling; rs.Type {
	case "", "none":
	case "linear":
		c.RopeScaling = &RopeScaling{Type: "linear", Factor: llamaShortest(rs.Factor)}
	default:
		return nil, fmt.Errorf("llama: %s: llama.rope.scaling.type %q is not supported (want none or linear)", f.Path, rs.Type)
	}
	c.AttentionBias = llamaHasTensor(f, "blk.0.attn_q.bias")
	c.MLPBias = llamaHasTensor(f, "blk.0.ffn_gate.bias")
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("llama: %s: %w", f.Path, err)
	}
	return &c, nil
}

func llamaHasTensor(f *gguf.File, name string) bool {
	_, err := f.Tensor(name)
	return err == nil
}

func llamaOpenGGUF(path string) (ck *llamaCheckpoint, err error) {
	src, err := weights.OpenGGUF(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			src.Close()
		}
	}()
	f := src.File
	p, err := f.LlamaParams()
	if err != nil {
		return nil, err
	}
	cfg, err := llamaConfigFromGGUF(f, p)
	if err != nil {
		return nil, err
	}
	ck = &llamaCheckpoint{cfg: cfg, src: src, close: src.Close}
	for _, name := range src.Unmapped {
		if name != "rope_freqs.weight" {
			return nil, fmt.Errorf("llama: %s: tensor %q has no Hugging Face Llama counterpart", path, name)
		}
		ff, err := f.Float32(name)
		if err != nil {
			return nil, err
		}
		if len(ff) != cfg.HeadDim()/2 {
			return nil, fmt.Errorf("llama: %s: tensor %q has %d values, want %d (half the head dimension)", path, name, len(ff), cfg.HeadDim()/2)
		}
		ck.freqFactors = ff
	}
	return ck, nil
}
