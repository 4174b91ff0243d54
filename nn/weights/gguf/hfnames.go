package gguf

import (
	"fmt"
	"strconv"
	"strings"
)

// Per-layer llama.cpp tensor stems and their Hugging Face Llama names.
var hfLayerNames = map[string]string{
	"attn_q":      "self_attn.q_proj",
	"attn_k":      "self_attn.k_proj",
	"attn_v":      "self_attn.v_proj",
	"attn_output": "self_attn.o_proj",
	"ffn_gate":    "mlp.gate_proj",
	"ffn_up":      "mlp.up_proj",
	"ffn_down":    "mlp.down_proj",
	"attn_norm":   "input_layernorm",
	"ffn_norm":    "post_attention_layernorm",
}

// Whole-model tensor stems.
var hfGlobalNames = map[string]string{
	"token_embd":  "model.embed_tokens",
	"output_norm": "model.norm",
	"output":      "lm_head",
}

// HFName maps a llama.cpp Llama tensor name to its Hugging Face
// LlamaForCausalLM parameter name:
//
//	token_embd.weight           -> model.embed_tokens.weight
//	blk.N.attn_q.weight         -> model.layers.N.self_attn.q_proj.weight
//	blk.N.attn_k / attn_v / attn_output -> k_proj / v_proj / o_proj
//	blk.N.ffn_gate / ffn_up / ffn_down  -> mlp.gate_proj / up_proj / down_proj
//	blk.N.attn_norm.weight      -> model.layers.N.input_layernorm.weight
//	blk.N.ffn_norm.weight       -> model.layers.N.post_attention_layernorm.weight
//	output_norm.weight          -> model.norm.weight
//	output.weight               -> lm_head.weight
//
// ".bias" suffixes map like ".weight". It reports false for tensors with no
// Hugging Face counterpart, such as rope_freqs.weight.
func HFName(name string) (string, bool) {
	stem, suffix, ok := splitSuffix(name)
	if !ok {
		return "", false
	}
	if hf, ok := hfGlobalNames[stem]; ok {
		return hf + suffix, true
	}
	rest, ok := strings.CutPrefix(stem, "blk.")
	if !ok {
		return "", false
	}
	num, part, ok := strings.Cut(rest, ".")
	if !ok || !isLayerIndex(num) {
		return "", false
	}
	hf, ok := hfLayerNames[part]
	if !ok {
		return "", false
	}
	return "model.layers." + num + "." + hf + suffix, true
}

// GGUFName is the inverse of HFName.
func GGUFName(hfName string) (string, bool) {
	stem, suffix, ok := splitSuffix(hfName)
	if !ok {
		return "", false
	}
	for g, hf := range hfGlobalNames {
		if stem == hf {
			return g + suffix, true
		}
	}
	rest, ok := strings.CutPrefix(stem, "model.layers.")
	if !ok {
		return "", false
	}
	num, part, ok := strings.Cut(rest, ".")
	if !ok || !isLayerIndex(num) {
		return "", false
	}
	for g, hf := range hfLayerNames {
		if part == hf {
			return "blk." + num + "." + g + suffix, true
		}
	}
	return "", false
}

func splitSuffix(name string) (stem, suffix string, ok bool) {
	for _, s := range []string{".weight", ".bias"} {
		if stem, ok := strings.CutSuffix(name, s); ok {
			return stem, s, true
		}
	}
	return "", "", false
}

// isLayerIndex accepts canonical decimal layer numbers ("0", "12").
func isLayerIndex(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && strconv.Itoa(n) == s
}

// HFTensor is a GGUF tensor seen as a Hugging Face Llama parameter.
type HFTensor struct {
	// Name is the Hugging Face parameter name.
	Name string
	// Info describes the stored GGUF tensor.
	Info *TensorInfo
	// Shape is the parameter shape in PyTorch order (Info.Shape()).
	Shape []int
	// PermuteHeads is the head count whose rotary row permutation must be
	// undone (head_count for q_proj, head_count_kv for k_proj), 0 for
	// tensors stored in Hugging Face layout.
	PermuteHeads int
}

// HFTensors maps every tensor of a Llama GGUF file to its Hugging Face name.
// Tensors with no Hugging Face counterpart are returned in unmapped. It
// fails when general.architecture is not "llama", the attention head counts
// are missing or invalid, or a q/k tensor's rows cannot be split into its
// heads.
func (f *File) HFTensors() (mapped []HFTensor, unmapped []string, err error) {
	_, heads, kvHeads, err := f.llamaHeads()
	if err != nil {
		return nil, nil, err
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		hf, ok := HFName(ti.Name)
		if !ok {
			unmapped = append(unmapped, ti.Name)
			continue
		}
		t := HFTensor{Name: hf, Info: ti, Shape: ti.Shape()}
		switch {
		case strings.HasSuffix(hf, ".q_proj.weight"), strings.HasSuffix(hf, ".q_proj.bias"):
			t.PermuteHeads = heads
		case strings.HasSuffix(hf, ".k_proj.weight"), strings.HasSuffix(hf, ".k_proj.bias"):
			t.PermuteHeads = kvHeads
		}
		if t.PermuteHeads > 0 {
			if err := checkPermutable(ti, t.PermuteHeads); err != nil {
				return nil, nil, fmt.Errorf("gguf: %s: %w", f.Path, err)
			}
		}
		mapped = append(mapped, t)
	}
	return mapped, unmapped, nil
}

// checkPermutable verifies that ti's rows can be un-permuted for heads.
func checkPermutable(ti *TensorInfo, heads int) error {
	rows, rowElems := permRows(ti)
	if rows <= 0 || rows%(2*heads) != 0 {
		return fmt.Errorf("tensor %q: shape/size mismatch: %d rows are not a positive multiple of 2*%d heads", ti.Name, rows, heads)
	}
	if rowElems%ti.Type.BlockSize() != 0 {
		return fmt.Errorf("tensor %q: rows of %d %s values cannot be moved as whole blocks", ti.Name, rowElems, ti.Type)
	}
	return nil
}

// permRows returns the row count of a 1-D (bias) or 2-D tensor seen as
// [rows, rowElems], or -1 for other ranks.
func permRows(ti *TensorInfo) (rows, rowElems int) {
	switch len(ti.Dims) {
	case 1:
		return int(ti.Dims[0]), 1
	case 2:
		return int(ti.Dims[1]), int(ti.Dims[0])
	}
	return -1, 0
}

// ReadHFFloat32 returns t dequantized to float32 in Hugging Face layout,
// row-major in t.Shape order, with the rotary row permutation of q_proj and
// k_proj undone.
func (f *File) ReadHFFloat32(t HFTensor) ([]float32, error) {
	data, err := f.Float32(t.Info.Name)
	if err != nil || t.PermuteHeads == 0 {
		return data, err
	}
	rows, _ := permRows(t.Info)
	out, err := UnpermuteRows(data, rows, t.PermuteHeads)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", f.Path, t.Info.Name, err)
	}
	return out, nil
}

// ReadHFRaw returns t's raw stored bytes (see ReadRaw) with the rotary row
// permutation undone, so F16/BF16 values or quantized blocks come out in
// Hugging Face row order without a float32 copy.
func (f *File) ReadHFRaw(t HFTensor) ([]byte, error) {
	raw, err := f.ReadRaw(t.Info.Name)
	if err != nil || t.PermuteHeads == 0 {
		return raw, err
	}
	rows, _ := permRows(t.Info)
	if err := checkPermutable(t.Info, t.PermuteHeads); err != nil {
		return nil, fmt.Errorf("gguf: %s: %w", f.Path, err)
	}
	out, err := UnpermuteRows(raw, rows, t.PermuteHeads)
	if err != nil {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", f.Path, t.Info.Name, err)
	}
	return out, nil
}
