// Command gotchgen generates gotch's libtorch bindings from PyTorch's Declarations.yaml: the C layer
// (libtch/torch_api_generated.{h,cpp.h}), the cgo layer (libtch/c-generated.go) and the Go API
// (ts/tensor-generated.go, ts/must-tensor-generated.go) of a gotch source copy.
//
// gotch's own generator (gen/gen.ml, OCaml, derived from tch-rs's) is only runnable with an OCaml toolchain and
// the Declarations.yaml of a PyTorch source build. This port keeps its rules, so every operator gets the same Go
// name and parameter list that gotch v0.9.1 users know (overload naming, skipped defaulted scalars, `del bool`
// on methods, `[]int64` for optional ints), and changes what the generated code does where gotch's is wrong:
//
//   - Output slots live in Go memory instead of a never-freed C.malloc(0) block that ops with more than one output
//     also overrun (gotch issue #115).
//   - An in-place op deletes the receiver's old torch::Tensor handle before taking the new one, so tensors that saw
//     an in-place op are freed.
//   - C strings passed to ops are freed.
//   - An optional tensor argument given as nil or as an undefined tensor (ts.None) reaches libtorch as "no tensor"
//     (std::nullopt), not as an undefined tensor inside the optional, which ops such as
//     scaled_dot_product_attention reject; empty slices are passed without indexing element 0.
//
// usage: gotchgen -decl Declarations.yaml -gotch DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// argType is the binding-level type of an operator argument.
type argType int

const (
	tBool argType = iota
	tInt64
	tInt64Option
	tDouble
	tDoubleOption
	tTensor
	tTensorOption
	tIntList
	tIntListOption
	tDoubleList
	tTensorOptList
	tTensorList
	tTensorOptions
	tScalar
	tScalarType
	tScalarTypeOption
	tDevice
	tString
	tLayout
	tLayoutOption
)

// parseArgType maps a Declarations.yaml dynamic_type to an argType; ok is false for types the bindings do not
// support (Generator, Dimname, MemoryFormat, ...).
func parseArgType(s string, nullable bool) (t argType, ok bool) {
	pick := func(plain, opt argType) argType {
		if nullable {
			return opt
		}
		return plain
	}
	switch strings.ToLower(s) {
	case "bool":
		return tBool, true
	case "int64_t":
		return pick(tInt64, tInt64Option), true
	case "double":
		return pick(tDouble, tDoubleOption), true
	case "at::tensor":
		return pick(tTensor, tTensorOption), true
	case "at::tensoroptions":
		return tTensorOptions, true
	case "at::intarrayref":
		return pick(tIntList, tIntListOption), true
	case "at::arrayref<double>":
		return tDoubleList, true
	case "const c10::list<c10::optional<at::tensor>> &", "const c10::list<::std::optional<at::tensor>> &":
		return tTensorOptList, true
	case "const at::itensorlistref &", "at::tensorlist":
		return tTensorList, true
	case "at::device":
		return tDevice, true
	case "const at::scalar &", "at::scalar":
		return tScalar, true
	case "at::scalartype":
		return pick(tScalarType, tScalarTypeOption), true
	case "c10::string_view":
		return tString, true
	case "at::layout":
		return pick(tLayout, tLayoutOption), true
	}
	return 0, false
}

type arg struct {
	name string
	typ  argType
}

type retKind int

const (
	retFixed retKind = iota // ntensors tensors
	retDynamic
	retBool
	retInt64
	retDouble
	retNothing
)

type fn struct {
	name, operatorName, overloadName string
	args                             []arg
	ret                              retKind
	ntensors                         int
	method                           bool // a Tensor method in C++ (self->name(...)), else torch::name(...)
}

// Rules carried over from gotch's gen.ml.
var (
	excludedFunctions = setOf("multi_margin_loss", "multi_margin_loss_out", "log_softmax_backward_data",
		"softmax_backward_data", "clone", "copy_", "conv_transpose2d_backward_out", "conv_transpose3d_backward_out",
		"slow_conv_transpose2d_backward_out", "slow_conv_transpose3d_backward_out", "slow_conv3d_backward_out",
		"normal", "_cufft_set_plan_cache_max_size", "_cufft_clear_plan_cache", "backward", "set_data",
		"_amp_non_finite_check_and_unscale_", "_amp_foreach_non_finite_check_and_unscale_", "_cummin_helper",
		"_cummax_helper", "retain_grad", "_validate_sparse_coo_tensor_args", "_validate_sparse_csr_tensor_args",
		"_backward", "size", "stride", "histogram_out", "histogram", "_assert_async", "gradient",
		"linalg_vector_norm", "linalg_vector_norm_out", "linalg_matrix_norm", "linalg_matrix_norm_out",
		"_histogramdd_bin_edges", "_histogramdd_from_bin_cts", "_linalg_check_errors", "_index_copy_",
		"_native_multi_head_self_attention", "normal_out", "bernoulli_out", "nested_tensor", "arange_out",
		"_assert_tensor_metadata", "_histogramdd_bin_edges_out", "_validate_compressed_sparse_indices",
		"_validate_sparse_bsc_tensor_args", "_validate_sparse_bsr_tensor_args",
		"_validate_sparse_compressed_tensor_args", "_validate_sparse_csc_tensor_args", "dequantize_out",
		"lstm_mps_backward_out", "quantize_per_tensor_out", "split_copy_out", "split_with_sizes_copy_out",
		"unbind_copy_out", "unsafe_split_out", "unsafe_split_with_sizes_out", "sym_numel", "sym_size", "sym_stride",
		"sym_storage_offset",
	)
	noTensorOptions       = setOf("zeros_like", "empty_like", "full_like", "ones_like", "rand_like", "randint_like", "randn_like")
	withOptionalScalarArg = setOf("arange", "baddbmm")
	excludedPrefixes      = []string{"_thnn_", "_th_", "thnn_", "th_", "_foreach", "_amp_foreach", "_nested_tensor", "_fused_adam"}
	excludedSuffixes      = []string{"_forward", "_forward_out"}
	// Go names whose wrappers gotch writes by hand (ts/patch.go) or leaves out.
	excludedGoFuncs = setOf("Chunk", "AlignTensors", "BroadcastTensors", "Meshgrid", "MeshgridIndexing", "_ToCpu",
		"NonzeroNumpy", "Split", "SplitWithSizes", "Unbind", "Where", "Atleast1d1", "Atleast2d1", "Atleast3d1",
		"Dequantize1", "QuantizePerTensor1", "UnsafeChunk", "UnsafeSplit", "UnsafeSplitWithSizes",
		"UnflattenDenseTensors", "TensorSplit", "TensorSplitIndices", "TensorSplitTensorIndicesOrSections",
		"QuantizePerTensorTensors", "Dsplit", "DsplitArray", "Hsplit", "HsplitArray", "Vsplit", "VsplitArray",
		"DequantizeTensors", "Atleast1dSequence", "Atleast2dSequence", "Atleast3dSequence", "Index", "IndexPut",
		"IndexPut_", "_IndexPutImpl_")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// decl is one entry of Declarations.yaml (the fields the generator reads).
type decl struct {
	Name         string   `yaml:"name"`
	OperatorName string   `yaml:"operator_name"`
	OverloadName string   `yaml:"overload_name"`
	Deprecated   bool     `yaml:"deprecated"`
	MethodOf     []string `yaml:"method_of"`
	Arguments    []struct {
		Name        string    `yaml:"name"`
		DynamicType string    `yaml:"dynamic_type"`
		IsNullable  bool      `yaml:"is_nullable"`
		Default     yaml.Node `yaml:"default"`
	} `yaml:"arguments"`
	Returns []struct {
		DynamicType string `yaml:"dynamic_type"`
	} `yaml:"returns"`
}

func readDecls(path string) ([]fn, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var decls []decl
	if err := yaml.Unmarshal(raw, &decls); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var fns []fn
	for _, d := range decls {
		if f, ok := toFn(d); ok {
			fns = append(fns, f)
		}
	}
	return fns, nil
}

// toFn applies gen.ml's selection rules to one declaration.
func toFn(d decl) (fn, bool) {
	if d.Deprecated || excludedFunctions[d.Name] {
		return fn{}, false
	}
	for _, p := range excludedPrefixes {
		if strings.HasPrefix(d.Name, p) {
			return fn{}, false
		}
	}
	for _, s := range excludedSuffixes {
		if strings.HasSuffix(d.Name, s) {
			return fn{}, false
		}
	}
	f := fn{name: d.Name, operatorName: d.OperatorName, overloadName: d.OverloadName}
	switch {
	case contains(d.MethodOf, "namespace"):
	case contains(d.MethodOf, "Tensor"):
		f.method = true
	default:
		return fn{}, false
	}
	allTensors := true
	for _, r := range d.Returns {
		allTensors = allTensors && r.DynamicType == "at::Tensor"
	}
	switch {
	case len(d.Returns) == 0:
		f.ret = retNothing
	case allTensors:
		f.ret, f.ntensors = retFixed, len(d.Returns)
	case len(d.Returns) == 1:
		switch d.Returns[0].DynamicType {
		case "bool":
			f.ret = retBool
		case "int64_t":
			f.ret = retInt64
		case "double":
			f.ret = retDouble
		case "at::TensorList":
			f.ret = retDynamic
		default:
			return fn{}, false
		}
	default:
		return fn{}, false
	}
	// Defaulted arguments are left out as gen.ml does; C++ passes them positionally, so one can only be left out
	// when no kept argument follows it. A defaulted scalar before a kept argument is kept (an explicit parameter);
	// a function with an unsupported defaulted argument before a kept one is not bound.
	type slot struct {
		a        arg
		kept     bool
		bindable bool
	}
	var slots []slot
	lastKept := -1
	for _, a := range d.Arguments {
		hasDefault := a.Default.Kind != 0
		t, ok := parseArgType(a.DynamicType, a.IsNullable)
		name := a.Name
		if name == "self" && t == tScalar {
			name = "self_scalar"
		}
		s := slot{a: arg{name, t}, kept: true, bindable: ok}
		switch {
		case !ok && hasDefault:
			s.kept = false
		case !ok:
			return fn{}, false
		case t == tScalar && hasDefault && !a.IsNullable && !withOptionalScalarArg[d.Name]:
			s.kept = false
		case t == tTensorOptions && hasDefault && noTensorOptions[d.Name]:
			s.kept = false
		}
		if s.kept {
			lastKept = len(slots)
		}
		slots = append(slots, s)
	}
	for i, s := range slots {
		switch {
		case s.kept:
		case i > lastKept:
			continue
		case !s.bindable:
			return fn{}, false
		}
		f.args = append(f.args, s.a)
	}
	return f, true
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// isMethod: the Go wrapper is a method on *Tensor (the op has a `self` tensor argument).
func (f fn) isMethod() bool {
	for _, a := range f.args {
		if a.name == "self" {
			return true
		}
	}
	return false
}

func (f fn) isInplace() bool { return strings.HasSuffix(f.name, "_") }

func (f fn) cOperatorName() string {
	switch n := strings.ToLower(f.operatorName); n {
	case "scatter_reduce":
		return "_scatter_reduce"
	case "scatter_reduce_":
		return "_scatter_reduce_"
	default:
		return n
	}
}

// goName turns snake_case into CamelCase, keeping a trailing underscore.
func goName(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(name, "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	if strings.HasSuffix(name, "_") {
		b.WriteString("_")
	}
	return b.String()
}

var goKeywords = setOf("break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
	"for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return", "select",
	"struct", "switch", "type", "var")

// goVar is the Go parameter name of an argument.
func goVar(name string) string {
	g := goName(name)
	switch g {
	case "Var":
		g = "vari"
	case "Unsafe":
		g = "unsafety"
	case "Range":
		g = "rangeVals"
	}
	v := strings.ToLower(g[:1]) + g[1:]
	switch {
	case goKeywords[v]:
		v += "Arg"
	case v == "ts" || v == "ptr" || v == "err" || v == "del" || v == "lib" || v == "out__":
		v += "Arg"
	}
	return v
}

// exportedGoName is the Go function name for an exported (overload-resolved) operator name.
func exportedGoName(exported string) string {
	switch {
	case strings.HasPrefix(exported, "__"):
		return "__" + goName(exported)
	case strings.HasPrefix(exported, "_"):
		return "_" + goName(exported)
	case strings.HasSuffix(exported, "_1"):
		return goName(exported) + "_"
	}
	return goName(exported)
}

// ---------------------------------------------------------------------------------------------------------------
// C layer.

func (f fn) cTypedArgs() string {
	var parts []string
	for _, a := range f.args {
		n := a.name
		var s string
		switch a.typ {
		case tIntList, tIntListOption:
			s = fmt.Sprintf("int64_t *%s_data, int %s_len", n, n)
		case tDoubleList:
			s = fmt.Sprintf("double *%s_data, int %s_len", n, n)
		case tTensorOptList, tTensorList:
			s = fmt.Sprintf("tensor *%s_data, int %s_len", n, n)
		case tTensorOptions:
			s = fmt.Sprintf("int %s_kind, int %s_device", n, n)
		case tString:
			s = fmt.Sprintf("char* %s_ptr, int %s_len", n, n)
		case tInt64Option:
			s = fmt.Sprintf("int64_t %s_v, uint8_t %s_null", n, n)
		case tDoubleOption:
			s = fmt.Sprintf("double %s_v, uint8_t %s_null", n, n)
		case tBool, tScalarType, tScalarTypeOption, tDevice:
			s = "int " + n
		case tInt64:
			s = "int64_t " + n
		case tDouble:
			s = "double " + n
		case tTensor, tTensorOption:
			s = "tensor " + n
		case tScalar:
			s = "scalar " + n
		case tLayout, tLayoutOption:
			s = "int8_t " + n
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func cArgs(args []arg) string {
	var parts []string
	for _, a := range args {
		n := a.name
		var s string
		switch a.typ {
		case tScalar, tTensor:
			s = "*" + n
		case tLayout:
			s = fmt.Sprintf("static_cast<at::Layout>(%s)", n)
		case tLayoutOption:
			s = fmt.Sprintf("(%s == -1 ? std::nullopt : std::optional<at::Layout>(static_cast<at::Layout>(%s)))", n, n)
		case tTensorOption:
			s = fmt.Sprintf("((%s && %s->defined()) ? std::optional<at::Tensor>(*%s) : std::nullopt)", n, n, n)
		case tBool:
			s = "(bool)" + n
		case tIntList:
			s = fmt.Sprintf("torch::IntArrayRef(%s_data, %s_len)", n, n)
		case tIntListOption:
			s = fmt.Sprintf("%s_data == nullptr ? std::nullopt : std::optional<torch::IntArrayRef>(torch::IntArrayRef(%s_data, %s_len))", n, n, n)
		case tDoubleList:
			s = fmt.Sprintf("at::ArrayRef<double>(%s_data, %s_len)", n, n)
		case tString:
			s = fmt.Sprintf("std::string(%s_ptr, %s_len)", n, n)
		case tTensorOptList:
			s = fmt.Sprintf("of_carray_tensor_opt(%s_data, %s_len)", n, n)
		case tTensorList:
			s = fmt.Sprintf("of_carray_tensor(%s_data, %s_len)", n, n)
		case tTensorOptions:
			s = fmt.Sprintf("at::device(device_of_int(%s_device)).dtype(at::ScalarType(%s_kind))", n, n)
		case tInt64Option:
			s = fmt.Sprintf("%s_null ? std::nullopt : std::optional<int64_t>(%s_v)", n, n)
		case tDoubleOption:
			s = fmt.Sprintf("%s_null ? std::nullopt : std::optional<double>(%s_v)", n, n)
		case tScalarType:
			s = fmt.Sprintf("at::ScalarType(%s)", n)
		case tScalarTypeOption:
			s = fmt.Sprintf("%s < 0 ? std::nullopt : std::optional<at::ScalarType>(at::ScalarType(%s))", n, n)
		case tDevice:
			s = fmt.Sprintf("device_of_int(%s)", n)
		default:
			s = n
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (f fn) cCall() string {
	if !f.method {
		return fmt.Sprintf("torch::%s(%s)", f.name, cArgs(f.args))
	}
	return fmt.Sprintf("%s->%s(%s)", f.args[0].name, f.name, cArgs(f.args[1:]))
}

func writeC(funcs []named, cpp, h *bytes.Buffer) {
	const banner = "// Generated by scripts/gotchgen from PyTorch's Declarations.yaml. DO NOT EDIT.\n\n"
	cpp.WriteString(banner)
	h.WriteString(banner)
	for _, nf := range funcs {
		f, name, args := nf.f, nf.exported, nf.f.cTypedArgs()
		switch f.ret {
		case retNothing:
			fmt.Fprintf(cpp, "void atg_%s(%s) {\n  PROTECT(\n    %s;\n  )\n}\n\n", name, args, f.cCall())
			fmt.Fprintf(h, "void atg_%s(%s);\n", name, args)
		case retFixed:
			fmt.Fprintf(cpp, "void atg_%s(tensor *out__, %s) {\n  PROTECT(\n    auto outputs__ = %s;\n", name, args, f.cCall())
			if f.ntensors == 1 {
				cpp.WriteString("    out__[0] = new torch::Tensor(outputs__);\n")
			} else {
				for i := 0; i < f.ntensors; i++ {
					fmt.Fprintf(cpp, "    out__[%d] = new torch::Tensor(std::get<%d>(outputs__));\n", i, i)
				}
			}
			cpp.WriteString("  )\n}\n\n")
			fmt.Fprintf(h, "void atg_%s(tensor *, %s);\n", name, args)
		case retDynamic:
			fmt.Fprintf(cpp, "tensor *atg_%s(%s) {\n  PROTECT(\n    auto outputs__ = %s;\n", name, args, f.cCall())
			cpp.WriteString("    int sz = outputs__.size();\n" +
				"    torch::Tensor **out__ = (torch::Tensor**)malloc((sz + 1) * sizeof(torch::Tensor*));\n" +
				"    for (int i = 0; i < sz; ++i)\n      out__[i] = new torch::Tensor(outputs__[i]);\n" +
				"    out__[sz] = nullptr;\n    return out__;\n  )\n  return nullptr;\n}\n\n")
			fmt.Fprintf(h, "tensor *atg_%s(%s);\n", name, args)
		default:
			ct := map[retKind]string{retBool: "int", retInt64: "int64_t", retDouble: "double"}[f.ret]
			fmt.Fprintf(cpp, "%s atg_%s(%s) {\n  PROTECT(\n    return %s;\n  )\n  return 0;\n}\n\n", ct, name, args, f.cCall())
			fmt.Fprintf(h, "%s atg_%s(%s);\n", ct, name, args)
		}
	}
}

// ---------------------------------------------------------------------------------------------------------------
// cgo layer (package libtch): one Go function per C function, converting Go values to C values.

func (f fn) cgoParams() string {
	var parts []string
	for _, a := range f.args {
		n := goVar(a.name)
		var s string
		switch a.typ {
		case tBool, tScalarType, tScalarTypeOption, tDevice:
			s = n + " int32"
		case tLayout, tLayoutOption:
			s = n + " int8"
		case tInt64:
			s = n + " int64"
		case tDouble:
			s = n + " float64"
		case tTensor, tTensorOption:
			s = n + " Ctensor"
		case tScalar:
			s = n + " Cscalar"
		case tString:
			s = n + " string"
		case tIntList, tIntListOption:
			s = fmt.Sprintf("%sData []int64, %sLen int", n, n)
		case tDoubleList:
			s = fmt.Sprintf("%sData []float64, %sLen int", n, n)
		case tTensorOptList, tTensorList:
			s = fmt.Sprintf("%sData []Ctensor, %sLen int", n, n)
		case tInt64Option:
			s = fmt.Sprintf("%sVal int64, %sNull int", n, n)
		case tDoubleOption:
			s = fmt.Sprintf("%sVal float64, %sNull int", n, n)
		case tTensorOptions:
			s = fmt.Sprintf("%sKind int32, %sDevice int32", n, n)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// cgoBody converts the parameters and returns the C call's argument list.
func (f fn) cgoBody(b *bytes.Buffer) string {
	var call []string
	for _, a := range f.args {
		n := goVar(a.name)
		switch a.typ {
		case tBool, tScalarType, tScalarTypeOption, tDevice:
			call = append(call, fmt.Sprintf("C.int(%s)", n))
		case tLayout, tLayoutOption:
			call = append(call, fmt.Sprintf("C.int8_t(%s)", n))
		case tInt64:
			call = append(call, fmt.Sprintf("C.int64_t(%s)", n))
		case tDouble:
			call = append(call, fmt.Sprintf("C.double(%s)", n))
		case tTensor, tTensorOption, tScalar:
			call = append(call, n)
		case tString:
			fmt.Fprintf(b, "c%s := C.CString(%s)\ndefer C.free(unsafe.Pointer(c%s))\n", n, n, n)
			call = append(call, fmt.Sprintf("c%s, C.int(len(%s))", n, n))
		case tIntList, tIntListOption:
			fmt.Fprintf(b, "var c%sPtr *C.int64_t\nif len(%sData) > 0 { c%sPtr = (*C.int64_t)(unsafe.Pointer(&%sData[0])) }\n", n, n, n, n)
			call = append(call, fmt.Sprintf("c%sPtr, C.int(%sLen)", n, n))
		case tDoubleList:
			fmt.Fprintf(b, "var c%sPtr *C.double\nif len(%sData) > 0 { c%sPtr = (*C.double)(unsafe.Pointer(&%sData[0])) }\n", n, n, n, n)
			call = append(call, fmt.Sprintf("c%sPtr, C.int(%sLen)", n, n))
		case tTensorOptList, tTensorList:
			fmt.Fprintf(b, "var c%sPtr *Ctensor\nif len(%sData) > 0 { c%sPtr = &%sData[0] }\n", n, n, n, n)
			call = append(call, fmt.Sprintf("c%sPtr, C.int(%sLen)", n, n))
		case tInt64Option:
			call = append(call, fmt.Sprintf("C.int64_t(%sVal), C.uint8_t(%sNull)", n, n))
		case tDoubleOption:
			call = append(call, fmt.Sprintf("C.double(%sVal), C.uint8_t(%sNull)", n, n))
		case tTensorOptions:
			call = append(call, fmt.Sprintf("C.int(%sKind), C.int(%sDevice)", n, n))
		}
	}
	return strings.Join(call, ", ")
}

func writeCgo(funcs []named, b *bytes.Buffer) {
	b.WriteString("// Code generated by scripts/gotchgen from PyTorch's Declarations.yaml. DO NOT EDIT.\n\n" +
		"package libtch\n\n// #include <stdlib.h>\n// #include <stdbool.h>\n// #include \"torch_api.h\"\nimport \"C\"\n\nimport \"unsafe\"\n\n" +
		"var _ unsafe.Pointer\n\n")
	for _, nf := range funcs {
		f := nf.f
		gname := exportedGoName(nf.exported)
		var body bytes.Buffer
		call := f.cgoBody(&body)
		switch f.ret {
		case retFixed:
			fmt.Fprintf(b, "func Atg%s(ptr *Ctensor, %s) {\n%s\tC.atg_%s(ptr, %s)\n}\n", gname, f.cgoParams(), body.String(), nf.exported, call)
		case retBool:
			fmt.Fprintf(b, "func Atg%s(%s) bool {\n%s\treturn C.atg_%s(%s) == 1\n}\n", gname, f.cgoParams(), body.String(), nf.exported, call)
		case retInt64:
			fmt.Fprintf(b, "func Atg%s(%s) int64 {\n%s\treturn int64(C.atg_%s(%s))\n}\n", gname, f.cgoParams(), body.String(), nf.exported, call)
		case retDouble:
			fmt.Fprintf(b, "func Atg%s(%s) float64 {\n%s\treturn float64(C.atg_%s(%s))\n}\n", gname, f.cgoParams(), body.String(), nf.exported, call)
		}
	}
}

// ---------------------------------------------------------------------------------------------------------------
// Go API (package ts).

func (f fn) goParams() string {
	var parts []string
	for _, a := range f.args {
		if a.name == "self" && a.typ == tTensor {
			continue
		}
		n := goVar(a.name)
		var t string
		switch a.typ {
		case tBool:
			t = "bool"
		case tLayout, tLayoutOption:
			t = "Layout"
		case tInt64:
			t = "int64"
		case tDouble:
			t = "float64"
		case tTensor, tTensorOption:
			t = "*Tensor"
		case tIntList, tIntListOption:
			t = "[]int64"
		case tDoubleList:
			t = "[]float64"
		case tTensorOptList, tTensorList:
			t = "[]*Tensor"
		case tString:
			t = "string"
		case tScalar:
			t = "*Scalar"
		case tScalarType, tScalarTypeOption:
			t = "gotch.DType"
		case tInt64Option:
			t = "[]int64"
		case tDoubleOption:
			t = "[]float64"
		case tDevice:
			t = "gotch.Device"
		case tTensorOptions:
			parts = append(parts, fmt.Sprintf("%sKind gotch.DType, %sDevice gotch.Device", n, n))
			continue
		}
		parts = append(parts, n+" "+t)
	}
	if f.isMethod() && !f.isInplace() {
		parts = append(parts, "del bool")
	}
	return strings.Join(parts, ", ")
}

func (f fn) goArgNames() string {
	var parts []string
	for _, a := range f.args {
		if a.name == "self" && a.typ == tTensor {
			continue
		}
		n := goVar(a.name)
		if a.typ == tTensorOptions {
			parts = append(parts, n+"Kind", n+"Device")
			continue
		}
		parts = append(parts, n)
	}
	if f.isMethod() && !f.isInplace() {
		parts = append(parts, "del")
	}
	return strings.Join(parts, ", ")
}

// goResults returns the named result list and the plain names, for the error-returning wrapper.
func (f fn) goResults() (typed, names string) {
	if f.isInplace() && f.ret != retBool && f.ret != retInt64 && f.ret != retDouble {
		return "err error", "err"
	}
	switch f.ret {
	case retFixed:
		if f.ntensors == 1 {
			return "retVal *Tensor, err error", "retVal, err"
		}
		var t, n []string
		for i := 0; i < f.ntensors; i++ {
			t = append(t, fmt.Sprintf("retVal%d *Tensor", i))
			n = append(n, fmt.Sprintf("retVal%d", i))
		}
		return strings.Join(t, ", ") + ", err error", strings.Join(n, ", ") + ", err"
	case retBool:
		return "retVal bool, err error", "retVal, err"
	case retInt64:
		return "retVal int64, err error", "retVal, err"
	case retDouble:
		return "retVal float64, err error", "retVal, err"
	}
	return "err error", "err"
}

// goBody converts Go arguments and returns the libtch call's argument list.
func (f fn) goBody(b *bytes.Buffer) string {
	var call []string
	for _, a := range f.args {
		n := goVar(a.name)
		switch a.typ {
		case tTensor:
			if a.name == "self" {
				call = append(call, "ts.ctensor")
			} else {
				call = append(call, n+".ctensor")
			}
		case tTensorOption:
			call = append(call, fmt.Sprintf("optionalCtensor(%s)", n))
		case tScalar:
			call = append(call, n+".cscalar")
		case tBool:
			fmt.Fprintf(b, "c%s := int32(0)\nif %s { c%s = 1 }\n", n, n, n)
			call = append(call, "c"+n)
		case tScalarType, tScalarTypeOption, tDevice:
			call = append(call, n+".CInt()")
		case tTensorOptions:
			call = append(call, fmt.Sprintf("%sKind.CInt(), %sDevice.CInt()", n, n))
		case tString, tInt64, tDouble:
			call = append(call, n)
		case tIntList, tIntListOption, tDoubleList:
			call = append(call, fmt.Sprintf("%s, len(%s)", n, n))
		case tTensorList, tTensorOptList:
			fmt.Fprintf(b, "c%s := make([]lib.Ctensor, len(%s))\nfor i, t := range %s { c%s[i] = optionalCtensor(t) }\n", n, n, n, n)
			call = append(call, fmt.Sprintf("c%s, len(c%s)", n, n))
		case tInt64Option:
			fmt.Fprintf(b, "var c%sVal int64\nc%sNull := 1\nif len(%s) > 0 { c%sVal, c%sNull = %s[0], 0 }\n", n, n, n, n, n, n)
			call = append(call, fmt.Sprintf("c%sVal, c%sNull", n, n))
		case tDoubleOption:
			fmt.Fprintf(b, "var c%sVal float64\nc%sNull := 1\nif len(%s) > 0 { c%sVal, c%sNull = %s[0], 0 }\n", n, n, n, n, n, n)
			call = append(call, fmt.Sprintf("c%sVal, c%sNull", n, n))
		case tLayout, tLayoutOption:
			call = append(call, fmt.Sprintf("int8(%s)", n))
		}
	}
	return strings.Join(call, ", ")
}

func writeGo(funcs []named, api, must *bytes.Buffer) {
	api.WriteString("// Code generated by scripts/gotchgen from PyTorch's Declarations.yaml. DO NOT EDIT.\n\n" +
		"package ts\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/sugarme/gotch\"\n\tlib \"github.com/sugarme/gotch/libtch\"\n)\n\n" +
		"var _ gotch.DType\n\n" +
		"// optionalCtensor is the C handle of an optional tensor argument: nil for a nil *Tensor.\n" +
		"// (An undefined tensor such as None is turned into \"no tensor\" on the C side.)\n" +
		"func optionalCtensor(t *Tensor) lib.Ctensor {\n\tif t == nil {\n\t\treturn nil\n\t}\n\treturn t.ctensor\n}\n\n")
	must.WriteString("// Code generated by scripts/gotchgen from PyTorch's Declarations.yaml. DO NOT EDIT.\n\n" +
		"package ts\n\nimport (\n\t\"log\"\n\n\t\"github.com/sugarme/gotch\"\n)\n\nvar _ gotch.DType\n\n")
	for _, nf := range funcs {
		f := nf.f
		gname := exportedGoName(nf.exported)
		if excludedGoFuncs[gname] || f.ret == retNothing || f.ret == retDynamic {
			continue
		}
		recv, self := "", ""
		if f.isMethod() {
			recv, self = "(ts *Tensor) ", "ts."
		}
		typed, names := f.goResults()
		var body bytes.Buffer
		call := f.goBody(&body)
		fmt.Fprintf(api, "func %s%s(%s) (%s) {\n", recv, gname, f.goParams(), typed)
		if f.isMethod() && !f.isInplace() {
			api.WriteString("if del { defer ts.MustDrop() }\n")
		}
		api.Write(body.Bytes())
		switch f.ret {
		case retFixed:
			fmt.Fprintf(api, "var outC [%d]lib.Ctensor\nlib.Atg%s(&outC[0], %s)\n", f.ntensors, gname, call)
		default:
			fmt.Fprintf(api, "retVal = lib.Atg%s(%s)\n", gname, call)
		}
		fmt.Fprintf(api, "if err = TorchErr(); err != nil {\nerr = fmt.Errorf(\"%s() failed: %%w\", err)\nreturn %s\n}\n", gname, names)
		if f.ret == retFixed {
			switch {
			case f.isInplace():
				// The op returns a new handle to the receiver's TensorImpl; drop the old handle.
				api.WriteString("lib.AtFree(ts.ctensor)\nts.ctensor = outC[0]\n")
				for i := 1; i < f.ntensors; i++ {
					fmt.Fprintf(api, "lib.AtFree(outC[%d])\n", i)
				}
			case f.ntensors == 1:
				fmt.Fprintf(api, "retVal = newTensor(outC[0], %q)\n", gname)
			default:
				for i := 0; i < f.ntensors; i++ {
					fmt.Fprintf(api, "retVal%d = newTensor(outC[%d], \"%s_%d\")\n", i, i, gname, i)
				}
			}
		}
		fmt.Fprintf(api, "return %s\n}\n\n", names)

		// Must wrapper: log.Fatal on error.
		mtyped := strings.TrimSuffix(strings.TrimSuffix(typed, "err error"), ", ")
		mnames := strings.TrimSuffix(strings.TrimSuffix(names, "err"), ", ")
		fmt.Fprintf(must, "func %sMust%s(%s) (%s) {\n", recv, gname, f.goParams(), mtyped)
		if mnames == "" {
			fmt.Fprintf(must, "err := %s%s(%s)\n", self, gname, f.goArgNames())
		} else {
			fmt.Fprintf(must, "%s, err := %s%s(%s)\n", mnames, self, gname, f.goArgNames())
		}
		fmt.Fprintf(must, "if err != nil { log.Fatal(err) }\nreturn %s\n}\n\n", mnames)
	}
}

// ---------------------------------------------------------------------------------------------------------------

// named is an operator with its overload-resolved exported name (the C symbol is atg_<exported>).
type named struct {
	exported string
	f        fn
}

// extraMethods are bound although they are not ATen operators (as in gen.ml).
func extraMethods() []fn {
	m := func(name string, args ...arg) fn {
		return fn{name: name, operatorName: name, args: args, ret: retFixed, ntensors: 1, method: true}
	}
	return []fn{
		m("grad", arg{"self", tTensor}),
		m("set_requires_grad", arg{"self", tTensor}, arg{"r", tBool}),
		m("toType", arg{"self", tTensor}, arg{"scalar_type", tScalarType}),
		m("to", arg{"self", tTensor}, arg{"device", tDevice}),
	}
}

// resolveOverloads gives each function a unique exported name, by gen.ml's rule: within an operator, overloads are
// ordered by name length then argument count; the first keeps the plain name unless some overload has an empty
// overload name, the others get "_<overload>" (before a trailing "_" for in-place ops).
func resolveOverloads(funcs []fn) ([]named, error) {
	groups := map[string][]fn{}
	var order []string
	for _, f := range funcs {
		k := f.cOperatorName()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], f)
	}
	seen := map[string]bool{}
	var out []named
	for _, op := range order {
		fs := groups[op]
		if len(fs) == 1 {
			out = append(out, named{op, fs[0]})
			seen[op] = true
			continue
		}
		hasEmpty := false
		for _, f := range fs {
			hasEmpty = hasEmpty || f.overloadName == ""
		}
		sort.SliceStable(fs, func(i, j int) bool {
			if len(fs[i].name) != len(fs[j].name) {
				return len(fs[i].name) < len(fs[j].name)
			}
			return len(fs[i].args) < len(fs[j].args)
		})
		for i, f := range fs {
			ov := strings.ToLower(f.overloadName)
			name := op
			switch {
			case ov == "" || (i == 0 && !hasEmpty):
			case strings.HasSuffix(op, "_"):
				name = op + ov + "_"
			default:
				name = op + "_" + ov
			}
			if seen[name] {
				return nil, fmt.Errorf("two functions resolve to the name %q", name)
			}
			seen[name] = true
			out = append(out, named{name, f})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].exported < out[j].exported })
	return out, nil
}

func writeFile(path string, data []byte, gofmt bool) error {
	if gofmt {
		src, err := format.Source(data)
		if err != nil {
			return fmt.Errorf("gofmt %s: %w", path, err)
		}
		data = src
	}
	return os.WriteFile(path, data, 0o644)
}

func run(declPath, gotchDir string) error {
	fns, err := readDecls(declPath)
	if err != nil {
		return err
	}
	funcs, err := resolveOverloads(append(extraMethods(), fns...))
	if err != nil {
		return err
	}
	var cpp, h, cgo, api, must bytes.Buffer
	writeC(funcs, &cpp, &h)
	writeCgo(funcs, &cgo)
	writeGo(funcs, &api, &must)
	for _, w := range []struct {
		path  string
		data  []byte
		gofmt bool
	}{
		{"libtch/torch_api_generated.cpp.h", cpp.Bytes(), false},
		{"libtch/torch_api_generated.h", h.Bytes(), false},
		{"libtch/c-generated.go", cgo.Bytes(), true},
		{"ts/tensor-generated.go", api.Bytes(), true},
		{"ts/must-tensor-generated.go", must.Bytes(), true},
	} {
		if err := writeFile(filepath.Join(gotchDir, w.path), w.data, w.gofmt); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "gotchgen: %d functions from %s\n", len(funcs), declPath)
	return nil
}

func main() {
	declPath := flag.String("decl", "", "PyTorch's Declarations.yaml")
	gotchDir := flag.String("gotch", "", "the gotch source copy whose generated files are replaced")
	flag.Parse()
	if *declPath == "" || *gotchDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*declPath, *gotchDir); err != nil {
		fmt.Fprintln(os.Stderr, "gotchgen:", err)
		os.Exit(1)
	}
}
