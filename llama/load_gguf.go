package llama

import (
	"fmt"
	"strconv"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/llama/gguf"
	"github.com/loraplus-go/loraplus/nn"
)

// llamaGGUFSource serves the tensors of a Llama GGUF file under their Hugging Face names, dequantized to fp32 with
// q_proj/k_proj rows in Hugging Face order (nn.TensorSource).
type llamaGGUFSource struct {
	f      *gguf.File
	names  []string
	byName map[string]gguf.HFTensor
}

func (s *llamaGGUFSource) Names() []string { return append([]string(nil), s.names...) }

func (s *llamaGGUFSource) Shape(name string) ([]int64, error) {
	t, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %s: no tensor maps to %q", s.f.Path, name)
	}
	return llamaShape(t.Shape), nil
}

// Tensor dequantizes one tensor into a new fp32 CPU tensor; the Go buffer is released once it is copied.
func (s *llamaGGUFSource) Tensor(name string) (*ts.Tensor, error) {
	t, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %s: no tensor maps to %q", s.f.Path, name)
	}
	v, err := s.f.ReadHFFloat32(t)
	if err != nil {
		return nil, err
	}
	x, err := llamaTensorFromF32(v, llamaShape(t.Shape))
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", s.f.Path, t.Info.Name, err)
	}
	return x, nil
}

func llamaShape(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

// llamaShortest returns the float64 nearest to the shortest decimal that reads back as x, so that a float32
// hyperparameter such as 1e-5 becomes the 1e-5 of config.json rather than 9.99999974737875e-06.
func llamaShortest(x float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	return v
}

// llamaConfigFromGGUF translates the llama.* hyperparameters into a Hugging Face configuration.
func llamaConfigFromGGUF(f *gguf.File, p *gguf.LlamaParams) (*nn.LlamaConfig, error) {
	c := nn.DefaultLlamaConfig()
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
		return nil, fmt.Errorf("gguf: %s: llama.attention.key_length %d differs from embedding_length/head_count, which is not supported",
			f.Path, p.HeadDim)
	}
	if p.RopeDimensionCount != p.HeadDim {
		return nil, fmt.Errorf("gguf: %s: llama.rope.dimension_count %d differs from the head dimension %d (partial rotary embeddings are not supported)",
			f.Path, p.RopeDimensionCount, p.HeadDim)
	}
	switch rs := p.RopeScaling; rs.Type {
	case "", "none":
	case "linear":
		c.RopeScaling = &nn.LlamaRopeScaling{Type: "linear", Factor: llamaShortest(rs.Factor)}
	default:
		return nil, fmt.Errorf("gguf: %s: llama.rope.scaling.type %q is not supported (want none or linear)", f.Path, rs.Type)
	}
	c.AttentionBias = llamaHasTensor(f, "blk.0.attn_q.bias")
	c.MLPBias = llamaHasTensor(f, "blk.0.ffn_gate.bias")
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", f.Path, err)
	}
	return &c, nil
}

func llamaHasTensor(f *gguf.File, name string) bool {
	_, err := f.Tensor(name)
	return err == nil
}

func llamaOpenGGUF(path string) (ck *llamaCheckpoint, err error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	p, err := f.LlamaParams()
	if err != nil {
		return nil, err
	}
	cfg, err := llamaConfigFromGGUF(f, p)
	if err != nil {
		return nil, err
	}
	mapped, unmapped, err := f.HFTensors()
	if err != nil {
		return nil, err
	}
	ck = &llamaCheckpoint{cfg: cfg, close: f.Close}
	for _, name := range unmapped {
		if name != "rope_freqs.weight" {
			return nil, fmt.Errorf("gguf: %s: tensor %q has no Hugging Face Llama counterpart", path, name)
		}
		ff, err := f.Float32(name)
		if err != nil {
			return nil, err
		}
		if len(ff) != cfg.HeadDim()/2 {
			return nil, fmt.Errorf("gguf: %s: tensor %q has %d values, want %d (half the head dimension)", path, name, len(ff), cfg.HeadDim()/2)
		}
		ck.freqFactors = ff
	}
	src := &llamaGGUFSource{f: f, byName: map[string]gguf.HFTensor{}}
	for _, t := range mapped {
		if !t.Info.Type.CanDequantize() {
			return nil, fmt.Errorf("gguf: %s: tensor %q is stored as %s, which cannot be dequantized", path, t.Info.Name, t.Info.Type)
		}
		src.names = append(src.names, t.Name)
		src.byName[t.Name] = t
	}
	ck.src = src
	return ck, nil
}
