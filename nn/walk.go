package nn

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"

	"github.com/sugarme/gotch/ts"
)

// Layer is a module that owns frozen tensors under checkpoint-relative names ("weight", "bias").
type Layer interface {
	Params() []NamedTensor
}

// NamedModule is a layer with its dotted path in a model, e.g. "h.0.attn.c_attn".
type NamedModule struct {
	Path  string
	Layer Layer
}

// ModuleMap names layers explicitly, for models that are not structs with name tags
// (e.g. a gotch model whose Linear layers were converted with FromGotch).
type ModuleMap map[string]Layer

// Modules lists the layers of a model in a stable order.
//
// A model is a pointer to a struct whose fields carry their checkpoint name in a `name` tag, as ollama's models do:
//
//	type Block struct {
//		Attn *Attention `name:"attn"`
//		MLP  *MLP       `name:"mlp"`
//	}
//	type Model struct {
//		H   []*Block  `name:"h"`     // paths h.0.attn..., h.1.attn...
//		LnF *LayerNorm `name:"ln_f"`
//	}
//
// Fields that implement Layer are reported; struct pointers and slices are walked (slice elements get their index
// as a path element); fields without a tag are skipped, and a tag of "-" too; a tag of "." keeps the parent path.
// A ModuleMap lists its entries sorted by path. A *ts.Tensor field with a tag is reported as a Layer of its own
// with a single tensor named by the tag.
func Modules(model any) ([]NamedModule, error) {
	if mm, ok := model.(ModuleMap); ok {
		out := make([]NamedModule, 0, len(mm))
		for p, l := range mm {
			out = append(out, NamedModule{p, l})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
		return out, nil
	}
	var out []NamedModule
	if err := walk(reflect.ValueOf(model), "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Parameters lists every frozen tensor of a model under its full checkpoint name (adapters excluded).
func Parameters(model any) ([]NamedTensor, error) {
	mods, err := Modules(model)
	if err != nil {
		return nil, err
	}
	var out []NamedTensor
	for _, m := range mods {
		for _, p := range m.Layer.Params() {
			out = append(out, NamedTensor{Join(m.Path, p.Name), p.Tensor})
		}
	}
	return out, nil
}

// Join joins dotted path elements, skipping empty ones.
func Join(parts ...string) string {
	s := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s != "" {
			s += "."
		}
		s += p
	}
	return s
}

// tensorParam is a bare tensor field seen as a layer with one parameter; its path is the parent's.
type tensorParam struct {
	name string
	t    *ts.Tensor
}

func (p tensorParam) Params() []NamedTensor { return []NamedTensor{{p.name, p.t}} }

var (
	layerType  = reflect.TypeOf((*Layer)(nil)).Elem()
	tensorType = reflect.TypeOf((*ts.Tensor)(nil))
)

func walk(v reflect.Value, path string, out *[]NamedModule) error {
	if !v.IsValid() {
		return nil
	}
	if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
	}
	if v.Type().Implements(layerType) && v.Kind() != reflect.Struct {
		*out = append(*out, NamedModule{path, v.Interface().(Layer)})
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return walk(v.Elem(), path, out)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := walk(v.Index(i), Join(path, strconv.Itoa(i)), out); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, ok := f.Tag.Lookup("name")
			if !ok || tag == "-" {
				continue
			}
			if !f.IsExported() {
				return fmt.Errorf("field %s.%s has a name tag but is not exported", t.Name(), f.Name)
			}
			fv := v.Field(i)
			if tag == "." {
				tag = ""
			}
			if f.Type == tensorType {
				if !fv.IsNil() {
					*out = append(*out, NamedModule{path, tensorParam{tag, fv.Interface().(*ts.Tensor)}})
				}
				continue
			}
			if err := walk(fv, Join(path, tag), out); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("cannot walk %s at %q: not a layer, struct, pointer or slice", v.Type(), path)
}
