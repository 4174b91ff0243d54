package nn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sugarme/gotch/ts"
)

// TensorSource is a read-only set of named tensors: a safetensors file, a sharded checkpoint, a GGUF file.
type TensorSource interface {
	// Names lists the tensor names in a stable order.
	Names() []string
	// Shape returns a tensor's shape without loading it.
	Shape(name string) ([]int64, error)
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

// LoadState copies every frozen tensor of model (see Parameters) from src, converting dtype and device, tensor
// by tensor, so no second full copy of the model is ever held. Keys must match exactly: the error lists the
// missing and unexpected keys and the shape mismatches.
func LoadState(model any, src TensorSource, o LoadOptions) error {
	params, err := Parameters(model)
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
		if got := dst.MustSize(); !SameShape(got, shape) {
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
		return fmt.Errorf("checkpoint does not fit the model:%s%s%s",
			ListNames("missing keys", missing), ListNames("unexpected keys", unexpected), ListNames("shape mismatches", badShape))
	}
	for _, p := range params {
		name, ok := srcName[p.Name]
		if !ok {
			continue
		}
		t, err := src.Tensor(name)
		if err != nil {
			return err
		}
		dst := p.Tensor.MustDetach(false)
		dst.Copy_(t) // converts dtype and device
		dst.MustDrop()
		t.MustDrop()
	}
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

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ListNames formats a titled list of names for an error message, sorted, at most 20 shown.
func ListNames(what string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	sort.Strings(items)
	n := len(items)
	const max = 20
	more := ""
	if n > max {
		more = fmt.Sprintf("\n  … and %d more", n-max)
		items = items[:max]
	}
	return fmt.Sprintf("\n %s (%d):\n  %s%s", what, n, strings.Join(items, "\n  "), more)
}

// Shape returns a tensor's shape (TensorSource).
func (s *Safetensors) Shape(name string) ([]int64, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", s.Path, name)
	}
	return ti.Shape, nil
}

func equalShapes(a, b []int64) bool { return SameShape(a, b) }
