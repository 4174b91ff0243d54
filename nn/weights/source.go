package weights

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// Source is a read-only set of named tensors: a safetensors file (*Safetensors), a Hugging Face model directory
// (*Dir: one or sharded safetensors or pytorch_model.bin files), a Llama GGUF file (*GGUF).
type Source interface {
	// Names lists the tensor names in a stable order.
	Names() []string
	// Shape returns a tensor's shape without loading it.
	Shape(name string) ([]int64, error)
	// DType returns the dtype Tensor gives a tensor: the stored one, or fp32 for quantized data.
	DType(name string) (gotch.DType, error)
	// Tensor loads one tensor on the CPU, in the dtype it is stored in (or fp32 for quantized data).
	Tensor(name string) (*ts.Tensor, error)
}

// LoadOptions relax LoadState's checks.
type LoadOptions struct {
	// Ignore lists names of the source to skip silently (e.g. "attn.bias" buffers of GPT-2 checkpoints), as exact
	// names or suffixes after a dot.
	Ignore []string
	// Optional lists model tensors that may be absent from the source (e.g. a classification head that is trained
	// from scratch), as exact names or suffixes after a dot.
	Optional []string
	// Rename maps a source name to the model's name; it returns "" to skip the tensor. nil keeps names.
	Rename func(string) string
}

// LoadState copies every frozen tensor of model (see nn.Parameters) from src, converting dtype and device, tensor
// by tensor, so no second full copy of the model is ever held. Keys must match exactly: the error lists the
// missing and unexpected keys and the shape mismatches.
func LoadState(model any, src Source, o LoadOptions) error {
	params, err := nn.Parameters(model)
	if err != nil {
		return err
	}
	want := map[string]*ts.Tensor{}
	for _, p := range params {
		want[p.Name] = p.Tensor
	}
	srcName := map[string]string{} // model name → source name
	var unexpected, badShape, missing []string
	for _, name := range src.Names() {
		if matchAny(name, o.Ignore) {
			continue
		}
		mname := name
		if o.Rename != nil {
			if mname = o.Rename(name); mname == "" {
				continue
			}
		}
		dst, ok := want[mname]
		if !ok {
			unexpected = append(unexpected, name)
			continue
		}
		shape, err := src.Shape(name)
		if err != nil {
			return err
		}
		if got := dst.MustSize(); !nn.SameShape(got, shape) {
			badShape = append(badShape, fmt.Sprintf("%s: checkpoint %v, model %v", name, shape, got))
			continue
		}
		srcName[mname] = name
	}
	for _, p := range params {
		if _, ok := srcName[p.Name]; !ok && !matchAny(p.Name, o.Optional) && !contains(badShape, p.Name) {
			missing = append(missing, p.Name)
		}
	}
	if len(missing)+len(unexpected)+len(badShape) > 0 {
		return fmt.Errorf("weights: checkpoint does not fit the model:%s%s%s",
			nn.ListNames("missing keys", missing), nn.ListNames("unexpected keys", unexpected), nn.ListNames("shape mismatches", badShape))
	}
	for _, p := range params {
		name, ok := srcName[p.Name]
		if !ok {
			continue
		}
		if err := loadTensor(src, name, p.Tensor); err != nil {
			return err
		}
	}
	return nil
}

// mapper is a Source that can give a tensor over its memory-mapped file (Safetensors; Dir when the tensor's file
// is safetensors).
type mapper interface {
	Mapped(name string) (*ts.Tensor, error)
}

// errUnsupported is Mapped's answer for a tensor it cannot map (a file that is not safetensors, bytes not aligned
// to the element size); Tensor serves it.
var errUnsupported = errors.New("weights: the tensor cannot be mapped")

// loadTensor fills param, a model's tensor, with tensor name of src, by the cheapest way src allows:
//   - a CPU tensor of the stored dtype that needs no gradient takes the memory-mapped file's storage (set_):
//     nothing is copied or read until it is used;
//   - otherwise a mapped tensor is copied (converting dtype, or to the GPU) straight from the mapping;
//   - a tensor that cannot be mapped is read into a CPU tensor (Tensor) that Copy_ converts to param's dtype and
//     device.
func loadTensor(src Source, name string, param *ts.Tensor) error {
	if m, ok := src.(mapper); ok {
		v, err := m.Mapped(name)
		if err == nil {
			defer v.MustDrop()
			if !param.MustDevice().IsCuda() && param.DType() == v.DType() && !param.MustRequiresGrad() &&
				param.MustIsContiguous() && nn.SameShape(param.MustSize(), v.MustSize()) {
				param.MustSetSourceTensor_(v)
				return nil
			}
			dst := param.MustDetach(false)
			dst.Copy_(v)
			dst.MustDrop()
			return nil
		}
		if !errors.Is(err, errUnsupported) {
			return err
		}
	}
	dst := param.MustDetach(false)
	defer dst.MustDrop()
	t, err := src.Tensor(name)
	if err != nil {
		return err
	}
	dst.Copy_(t) // converts dtype and device
	t.MustDrop()
	return nil
}

func matchAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if name == p || strings.HasSuffix(name, "."+p) {
			return true
		}
	}
	return false
}

func contains(list []string, name string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, name+":") {
			return true
		}
	}
	return false
}

// LoadWithHead loads a classifier from src. The head tensors (model names) are either all in the checkpoint
// or all absent; when absent, initHead fills them. Every other tensor of the model must be present.
func LoadWithHead(model any, src Source, head []nn.NamedTensor, o LoadOptions, initHead func()) error {
	present := map[string]bool{}
	for _, n := range src.Names() {
		if matchAny(n, o.Ignore) {
			continue
		}
		if o.Rename != nil {
			n = o.Rename(n)
		}
		present[n] = true
	}
	found := 0
	for _, h := range head {
		if present[h.Name] {
			found++
		}
	}
	if found == 0 {
		for _, h := range head {
			o.Optional = append(o.Optional, h.Name)
		}
	}
	if err := LoadState(model, src, o); err != nil {
		return err
	}
	if found == 0 {
		initHead()
	}
	return nil
}
