package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// testKV is a metadata entry for buildGGUF. val is a Go scalar (its type
// picks the GGUF type: uint8 ... float64, bool, string), a testArr, or a
// testRaw.
type testKV struct {
	key string
	val any
}

// testArr is an array value: elements of type elem (nested testArr for
// arrays of arrays).
type testArr struct {
	elem  ValueType
	items []any
}

// testRaw is a value written as its type id followed by raw bytes.
type testRaw struct {
	typ  uint32
	data []byte
}

// testTensor is a tensor for buildGGUF. offset, when set, overrides the
// computed data offset; data may be shorter or longer than the tensor.
type testTensor struct {
	name   string
	typ    GGMLType
	dims   []uint64
	data   []byte
	offset *uint64
}

type enc struct{ bytes.Buffer }

func (e *enc) u32(v uint32) { _ = binary.Write(e, binary.LittleEndian, v) }
func (e *enc) u64(v uint64) { _ = binary.Write(e, binary.LittleEndian, v) }
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.WriteString(s) }

func typeOf(v any) ValueType {
	switch v.(type) {
	case uint8:
		return ValueUint8
	case int8:
		return ValueInt8
	case uint16:
		return ValueUint16
	case int16:
		return ValueInt16
	case uint32:
		return ValueUint32
	case int32:
		return ValueInt32
	case float32:
		return ValueFloat32
	case bool:
		return ValueBool
	case string:
		return ValueString
	case testArr:
		return ValueArray
	case uint64:
		return ValueUint64
	case int64:
		return ValueInt64
	case float64:
		return ValueFloat64
	}
	panic(fmt.Sprintf("typeOf %T", v))
}

// value writes v without its type id.
func (e *enc) value(v any) {
	switch x := v.(type) {
	case string:
		e.str(x)
	case bool:
		if x {
			e.WriteByte(1)
		} else {
			e.WriteByte(0)
		}
	case testArr:
		e.u32(uint32(x.elem))
		e.u64(uint64(len(x.items)))
		for _, it := range x.items {
			e.value(it)
		}
	default:
		_ = binary.Write(e, binary.LittleEndian, x)
	}
}

// buildGGUF encodes a GGUF file. Tensor data is laid out in order at the
// file's alignment (general.alignment when given as uint32, else 32).
func buildGGUF(version uint32, kvs []testKV, tensors []testTensor) []byte {
	align := uint64(DefaultAlignment)
	var e enc
	e.WriteString(Magic)
	e.u32(version)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.str(kv.key)
		if r, ok := kv.val.(testRaw); ok {
			e.u32(r.typ)
			e.Write(r.data)
			continue
		}
		if a, ok := kv.val.(uint32); ok && kv.key == "general.alignment" && a != 0 && a&(a-1) == 0 {
			align = uint64(a)
		}
		e.u32(uint32(typeOf(kv.val)))
		e.value(kv.val)
	}
	var off uint64
	offsets := make([]uint64, len(tensors))
	for i, ti := range tensors {
		e.str(ti.name)
		e.u32(uint32(len(ti.dims)))
		for _, d := range ti.dims {
			e.u64(d)
		}
		e.u32(uint32(ti.typ))
		offsets[i] = off
		if ti.offset != nil {
			offsets[i] = *ti.offset
		}
		e.u64(offsets[i])
		off += (uint64(len(ti.data)) + align - 1) / align * align
	}
	for e.Len()%int(align) != 0 {
		e.WriteByte(0)
	}
	start := e.Len()
	for i, ti := range tensors {
		if ti.offset != nil {
			continue
		}
		for uint64(e.Len()-start) < offsets[i] {
			e.WriteByte(0)
		}
		e.Write(ti.data)
	}
	for e.Len()%int(align) != 0 {
		e.WriteByte(0)
	}
	return e.Bytes()
}

func mustParse(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := NewFile(bytes.NewReader(b), int64(len(b)), "test.gguf")
	require.NoError(t, err)
	return f
}

func nanF32() float32 { return float32(math.NaN()) }

func u64p(v uint64) *uint64 { return &v }
