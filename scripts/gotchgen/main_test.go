package main

import (
	"bytes"
	"go/format"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestExportedGoName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"matmul", "Matmul"},
		{"add_", "Add_"},
		{"scaled_dot_product_attention", "ScaledDotProductAttention"},
		{"_to_copy", "_ToCopy"},
		{"__and__", "__And_"},
		{"atleast_1d_1", "Atleast1d1_"},
		{"add_scalar_", "AddScalar_"},
		{"index_put_", "IndexPut_"},
	} {
		if got := exportedGoName(c.in); got != c.want {
			t.Errorf("exportedGoName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGoVar(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"attn_mask", "attnMask"},
		{"var", "vari"},
		{"range", "rangeVals"},
		{"unsafe", "unsafety"},
		{"type", "typeArg"},
		{"ptr", "ptrArg"},
		{"del", "delArg"},
	} {
		if got := goVar(c.in); got != c.want {
			t.Errorf("goVar(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// parseDecls reads Declarations.yaml text.
func parseDecls(t *testing.T, src string) []fn {
	t.Helper()
	var decls []decl
	if err := yaml.Unmarshal([]byte(src), &decls); err != nil {
		t.Fatal(err)
	}
	var fns []fn
	for _, d := range decls {
		if f, ok := toFn(d); ok {
			fns = append(fns, f)
		}
	}
	return fns
}

const declsYAML = `
- name: add
  operator_name: add
  overload_name: Tensor
  deprecated: false
  method_of: [Type, Tensor, namespace]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: other, dynamic_type: at::Tensor, is_nullable: false}
  - {name: alpha, dynamic_type: const at::Scalar &, is_nullable: false, default: 1}
  returns: [{dynamic_type: at::Tensor}]
- name: add
  operator_name: add
  overload_name: Scalar
  deprecated: false
  method_of: [Type, Tensor, namespace]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: other, dynamic_type: const at::Scalar &, is_nullable: false}
  - {name: alpha, dynamic_type: const at::Scalar &, is_nullable: false, default: 1}
  returns: [{dynamic_type: at::Tensor}]
- name: add_
  operator_name: add_
  overload_name: Tensor
  deprecated: false
  method_of: [Type, Tensor]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: other, dynamic_type: at::Tensor, is_nullable: false}
  - {name: alpha, dynamic_type: const at::Scalar &, is_nullable: false, default: 1}
  returns: [{dynamic_type: at::Tensor}]
- name: addmm_scaled
  operator_name: addmm_scaled
  overload_name: ''
  deprecated: false
  method_of: [Type, namespace]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: beta, dynamic_type: const at::Scalar &, is_nullable: false, default: 1}
  - {name: out_dtype, dynamic_type: at::ScalarType, is_nullable: true}
  returns: [{dynamic_type: at::Tensor}]
- name: with_generator_first
  operator_name: with_generator_first
  overload_name: ''
  deprecated: false
  method_of: [Type, namespace]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: generator, dynamic_type: at::Generator, is_nullable: true, default: '::std::nullopt'}
  - {name: p, dynamic_type: double, is_nullable: false}
  returns: [{dynamic_type: at::Tensor}]
- name: sdpa
  operator_name: sdpa
  overload_name: ''
  deprecated: false
  method_of: [Type, namespace]
  arguments:
  - {name: query, dynamic_type: at::Tensor, is_nullable: false}
  - {name: attn_mask, dynamic_type: at::Tensor, is_nullable: true, default: '{}'}
  - {name: scale, dynamic_type: double, is_nullable: true, default: '::std::nullopt'}
  - {name: generator, dynamic_type: at::Generator, is_nullable: true, default: '::std::nullopt'}
  returns: [{dynamic_type: at::Tensor}]
- name: max
  operator_name: max
  overload_name: dim
  deprecated: false
  method_of: [Type, Tensor, namespace]
  arguments:
  - {name: self, dynamic_type: at::Tensor, is_nullable: false}
  - {name: dim, dynamic_type: int64_t, is_nullable: false}
  - {name: keepdim, dynamic_type: bool, is_nullable: false, default: false}
  returns: [{dynamic_type: at::Tensor}, {dynamic_type: at::Tensor}]
- name: old
  operator_name: old
  overload_name: ''
  deprecated: true
  method_of: [Type, namespace]
  arguments: [{name: self, dynamic_type: at::Tensor, is_nullable: false}]
  returns: [{dynamic_type: at::Tensor}]
`

func argNames(f fn) string {
	var s []string
	for _, a := range f.args {
		s = append(s, a.name)
	}
	return strings.Join(s, ",")
}

func TestSelectionAndOverloads(t *testing.T) {
	funcs, err := resolveOverloads(parseDecls(t, declsYAML))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, nf := range funcs {
		got[nf.exported] = argNames(nf.f)
	}
	want := map[string]string{
		"add":          "self,other",          // a trailing defaulted scalar is left out
		"add_scalar":   "self,other",          // the second overload is named after its overload name
		"add_":         "self,other",          // in-place ops form their own operator
		"addmm_scaled": "self,beta,out_dtype", // a defaulted scalar followed by a kept argument stays
		"sdpa":         "query,attn_mask,scale",
		"max":          "self,dim,keepdim",
	}
	if len(got) != len(want) {
		t.Errorf("functions: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: args %q, want %q", k, got[k], v)
		}
	}
	// with_generator_first: an unsupported defaulted argument before a kept one cannot be left out: not bound.
	if _, ok := got["with_generator_first"]; ok {
		t.Error("with_generator_first is bound although its generator argument cannot be passed")
	}
}

func TestGeneratedCode(t *testing.T) {
	funcs, err := resolveOverloads(parseDecls(t, declsYAML))
	if err != nil {
		t.Fatal(err)
	}
	var cpp, h, cgo, api, must bytes.Buffer
	writeC(funcs, &cpp, &h)
	writeCgo(funcs, &cgo)
	writeGo(funcs, &api, &must)
	for _, b := range []*bytes.Buffer{&cgo, &api, &must} {
		src, err := format.Source(b.Bytes())
		if err != nil {
			t.Fatalf("generated Go does not parse: %v\n%s", err, b.String())
		}
		b.Reset()
		b.Write(src)
	}
	for _, c := range []struct {
		name string
		text *bytes.Buffer
		want string
	}{
		// An optional tensor that is nil or undefined reaches libtorch as std::nullopt.
		{"optional tensor", &cpp, "((attn_mask && attn_mask->defined()) ? std::optional<at::Tensor>(*attn_mask) : std::nullopt)"},
		{"method call", &cpp, "auto outputs__ = self->add_(*other);"},
		{"function call", &cpp, "auto outputs__ = torch::sdpa(*query,"},
		{"two outputs", &cpp, "out__[1] = new torch::Tensor(std::get<1>(outputs__));"},
		{"header", &h, "void atg_max(tensor *, tensor self, int64_t dim, int keepdim);"},
		// Output slots in Go memory, sized by the number of outputs.
		{"output slots", &api, "var outC [2]lib.Ctensor"},
		// In-place: the receiver's old handle is deleted before it takes the new one.
		{"in-place handle", &api, "lib.AtFree(ts.ctensor)\n\tts.ctensor = outC[0]"},
		{"nil optional", &api, "optionalCtensor(attnMask)"},
		{"method signature", &api, "func (ts *Tensor) Add(other *Tensor, del bool) (retVal *Tensor, err error)"},
		{"optional double", &api, "func Sdpa(query *Tensor, attnMask *Tensor, scale []float64) (retVal *Tensor, err error)"},
		{"must wrapper", &must, "func (ts *Tensor) MustMax(dim int64, keepdim bool, del bool) (retVal0 *Tensor, retVal1 *Tensor)"},
		{"in-place must", &must, "func (ts *Tensor) MustAdd_(other *Tensor) {"},
	} {
		if !strings.Contains(c.text.String(), c.want) {
			t.Errorf("%s: generated code lacks %q", c.name, c.want)
		}
	}
	if strings.Contains(api.String(), "C.malloc") {
		t.Error("the Go API allocates C memory for output slots")
	}
}
