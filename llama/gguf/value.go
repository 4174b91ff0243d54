package gguf

import "fmt"

// ValueType is the type tag of a GGUF metadata value (enum gguf_type).
type ValueType uint32

// GGUF metadata value types.
const (
	Uint8   ValueType = 0
	Int8    ValueType = 1
	Uint16  ValueType = 2
	Int16   ValueType = 3
	Uint32  ValueType = 4
	Int32   ValueType = 5
	Float32 ValueType = 6
	Bool    ValueType = 7
	String  ValueType = 8
	Array   ValueType = 9
	Uint64  ValueType = 10
	Int64   ValueType = 11
	Float64 ValueType = 12
)

var valueTypeNames = [...]string{
	Uint8: "uint8", Int8: "int8", Uint16: "uint16", Int16: "int16",
	Uint32: "uint32", Int32: "int32", Float32: "float32", Bool: "bool",
	String: "string", Array: "array", Uint64: "uint64", Int64: "int64",
	Float64: "float64",
}

// String returns the lower-case name of the type ("uint32", "array").
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// valid reports whether t is a defined GGUF value type.
func (t ValueType) valid() bool { return t <= Float64 }

// scalarSize is the encoded size in bytes of a fixed-size scalar, or 0 for
// strings and arrays.
func (t ValueType) scalarSize() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	}
	return 0
}

// Value is one GGUF metadata value.
//
// Data holds the decoded Go value:
//   - scalars: uint8, int8, uint16, int16, uint32, int32, float32, bool,
//     string, uint64, int64, float64 according to Type;
//   - arrays (Type == Array): a typed slice of the element type ([]uint8,
//     []int32, []float32, []bool, []string, ...), and for arrays of arrays a
//     []Value whose elements are themselves arrays.
//
// ElemType is the element type of an array and is unused otherwise.
type Value struct {
	Type     ValueType
	ElemType ValueType
	Data     any
}

// Len returns the number of elements of an array value, or 1 for a scalar.
func (v Value) Len() int {
	if v.Type != Array {
		return 1
	}
	switch d := v.Data.(type) {
	case []uint8:
		return len(d)
	case []int8:
		return len(d)
	case []uint16:
		return len(d)
	case []int16:
		return len(d)
	case []uint32:
		return len(d)
	case []int32:
		return len(d)
	case []float32:
		return len(d)
	case []bool:
		return len(d)
	case []string:
		return len(d)
	case []uint64:
		return len(d)
	case []int64:
		return len(d)
	case []float64:
		return len(d)
	case []Value:
		return len(d)
	}
	return 0
}

// TypeName describes the value's type for error messages: "uint32",
// "array[string]", "array[array]".
func (v Value) TypeName() string {
	if v.Type == Array {
		return "array[" + v.ElemType.String() + "]"
	}
	return v.Type.String()
}

// KV is one metadata entry in file order.
type KV struct {
	Key   string
	Value Value
}
