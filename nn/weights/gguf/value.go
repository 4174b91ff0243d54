package gguf

import "fmt"

// ValueType is the type tag of a GGUF metadata value (enum gguf_type).
type ValueType uint32

// GGUF metadata value types.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	ValueUint8: "uint8", ValueInt8: "int8", ValueUint16: "uint16", ValueInt16: "int16",
	ValueUint32: "uint32", ValueInt32: "int32", ValueFloat32: "float32", ValueBool: "bool",
	ValueString: "string", ValueArray: "array", ValueUint64: "uint64", ValueInt64: "int64",
	ValueFloat64: "float64",
}

// String returns the lower-case name of the type ("uint32", "array").
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// valid reports whether t is a defined GGUF value type.
func (t ValueType) valid() bool { return t <= ValueFloat64 }

// scalarSize is the encoded size in bytes of a fixed-size scalar, or 0 for
// strings and arrays.
func (t ValueType) scalarSize() int {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	}
	return 0
}

// Value is one GGUF metadata value.
//
// Data holds the decoded Go value:
//   - scalars: uint8, int8, uint16, int16, uint32, int32, float32, bool,
//     string, uint64, int64, float64 according to Type;
//   - arrays (Type == ValueArray): a typed slice of the element type ([]uint8,
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
	if v.Type != ValueArray {
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
	if v.Type == ValueArray {
		return "array[" + v.ElemType.String() + "]"
	}
	return v.Type.String()
}

// KV is one metadata entry in file order.
type KV struct {
	Key   string
	Value Value
}
