package weights

import (
	"fmt"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// GGUF serves the tensors of a Llama GGUF file under their Hugging Face names (gguf.HFName), dequantized to fp32
// with q_proj/k_proj rows in Hugging Face order (Source). Tensors without a Hugging Face counterpart (e.g.
// rope_freqs.weight) are listed in Unmapped and read through File. Close it when done.
type GGUF struct {
	File     *gguf.File
	Unmapped []string // llama.cpp names of the tensors Names does not list
	names    []string
	byName   map[string]gguf.HFTensor
}

// OpenGGUF opens a GGUF file and maps its tensor names; it fails when a mapped tensor is stored in a type that
// cannot be dequantized.
func OpenGGUF(path string) (g *GGUF, err error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	mapped, unmapped, err := f.HFTensors()
	if err != nil {
		return nil, err
	}
	g = &GGUF{File: f, Unmapped: unmapped, byName: map[string]gguf.HFTensor{}}
	for _, t := range mapped {
		if !t.Info.Type.CanDequantize() {
			return nil, fmt.Errorf("weights: %s: tensor %q is stored as %s, which cannot be dequantized", path, t.Info.Name, t.Info.Type)
		}
		g.names = append(g.names, t.Name)
		g.byName[t.Name] = t
	}
	return g, nil
}

// Names lists the Hugging Face names of the mapped tensors, in the file's order.
func (g *GGUF) Names() []string { return append([]string(nil), g.names...) }

func (g *GGUF) lookup(name string) (gguf.HFTensor, error) {
	t, ok := g.byName[name]
	if !ok {
		return t, fmt.Errorf("weights: %s: no tensor maps to %q", g.File.Path, name)
	}
	return t, nil
}

// Shape returns a tensor's row-major shape.
func (g *GGUF) Shape(name string) ([]int64, error) {
	t, err := g.lookup(name)
	if err != nil {
		return nil, err
	}
	return int64s(t.Shape), nil
}

// DType is fp32 for every tensor: Tensor dequantizes.
func (g *GGUF) DType(name string) (gotch.DType, error) {
	_, err := g.lookup(name)
	return gotch.Float, err
}

// Tensor dequantizes one tensor into a new fp32 CPU tensor; the Go buffer is released once it is copied.
func (g *GGUF) Tensor(name string) (*ts.Tensor, error) {
	t, err := g.lookup(name)
	if err != nil {
		return nil, err
	}
	v, err := g.File.ReadHFFloat32(t)
	if err != nil {
		return nil, err
	}
	x, err := tensorFromF32(v, int64s(t.Shape))
	if err != nil {
		return nil, fmt.Errorf("weights: %s: tensor %q: %w", g.File.Path, t.Info.Name, err)
	}
	return x, nil
}

// Close closes the file.
func (g *GGUF) Close() error { return g.File.Close() }

func int64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

// tensorFromF32 copies row-major float32 values into a new CPU tensor of the given shape. The values are handed
// to libtorch as their in-memory bytes, which skips gotch's element-by-element encoding of a []float32.
func tensorFromF32(v []float32, shape []int64) (*ts.Tensor, error) {
	if len(v) == 0 {
		return ts.MustZeros(shape, gotch.Float, gotch.CPU), nil
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	return ts.OfDataSize(raw, shape, gotch.Float)
}
