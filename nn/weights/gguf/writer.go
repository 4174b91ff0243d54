package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Writer assembles a GGUF version 3 file: metadata in the order added, then the tensor descriptions and the data
// section, each tensor's data starting on a DefaultAlignment (32-byte) boundary as llama.cpp's gguf writer lays
// it out. Data is held in memory until WriteTo.
type Writer struct {
	kvs     []KV
	keys    map[string]bool
	tensors []wTensor
	names   map[string]bool
}

type wTensor struct {
	name string
	typ  GGMLType
	dims []uint64 // ggml order
	data []byte
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{keys: map[string]bool{}, names: map[string]bool{}} }

// Add appends a metadata entry. v.Data must match v.Type as File decodes it (uint32 for ValueUint32, []string
// for an array of ValueString, ...); nested arrays are not written. Duplicate keys are errors.
func (w *Writer) Add(key string, v Value) error {
	if key == "" || w.keys[key] {
		return fmt.Errorf("gguf: metadata key %q is empty or already set", key)
	}
	if err := encodeValue(io.Discard, v); err != nil {
		return fmt.Errorf("gguf: metadata key %q: %w", key, err)
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{Key: key, Value: v})
	return nil
}

// AddTensor appends a tensor of type typ with a row-major (PyTorch-order) shape; data holds its bytes in ggml's
// layout for typ (for quantized types, whole blocks along the last axis). The size of data is checked.
func (w *Writer) AddTensor(name string, typ GGMLType, shape []int, data []byte) error {
	if name == "" || w.names[name] {
		return fmt.Errorf("gguf: tensor name %q is empty or already used", name)
	}
	if !typ.Known() || len(shape) == 0 || len(shape) > MaxDims {
		return fmt.Errorf("gguf: tensor %q: bad type %v or shape %v", name, typ, shape)
	}
	dims := make([]uint64, len(shape))
	n := 1
	for i, d := range shape {
		if d <= 0 {
			return fmt.Errorf("gguf: tensor %q: bad shape %v", name, shape)
		}
		dims[len(shape)-1-i] = uint64(d)
		n *= d
	}
	row, err := typ.RowBytes(shape[len(shape)-1])
	if err != nil {
		return fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	if want := row * (n / shape[len(shape)-1]); len(data) != want {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, want %d for %v %v", name, len(data), want, typ, shape)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, wTensor{name: name, typ: typ, dims: dims, data: data})
	return nil
}

// WriteTo writes the file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriterSize(out, 1<<20)}
	le := func(v any) { _ = binary.Write(cw, binary.LittleEndian, v) }
	cw.Write([]byte(Magic))
	le(uint32(3))
	le(uint64(len(w.tensors)))
	le(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		writeString(cw, kv.Key)
		if err := encodeValue(cw, kv.Value); err != nil {
			return cw.n, err
		}
	}
	const align = DefaultAlignment
	var off uint64
	for _, t := range w.tensors {
		writeString(cw, t.name)
		le(uint32(len(t.dims)))
		for _, d := range t.dims {
			le(d)
		}
		le(uint32(t.typ))
		le(off)
		off += padTo(uint64(len(t.data)), align)
	}
	pad := func() { cw.Write(make([]byte, padTo(uint64(cw.n), align)-uint64(cw.n))) }
	pad()
	for _, t := range w.tensors {
		cw.Write(t.data)
		pad()
	}
	if cw.err == nil {
		cw.err = cw.w.(*bufio.Writer).Flush()
	}
	return cw.n, cw.err
}

func padTo(n, align uint64) uint64 { return (n + align - 1) / align * align }

// countWriter counts bytes and keeps the first error, so that WriteTo can write without checking each call.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func writeString(w io.Writer, s string) {
	_ = binary.Write(w, binary.LittleEndian, uint64(len(s)))
	_, _ = io.WriteString(w, s)
}

// encodeValue writes a value's type tag and data (arrays: element type, count, elements).
func encodeValue(w io.Writer, v Value) error {
	le := func(x any) { _ = binary.Write(w, binary.LittleEndian, x) }
	if v.Type != ValueArray {
		if !scalarMatches(v.Type, v.Data) {
			return fmt.Errorf("value %T does not match type %v", v.Data, v.Type)
		}
		le(uint32(v.Type))
		if s, ok := v.Data.(string); ok {
			writeString(w, s)
		} else {
			le(v.Data)
		}
		return nil
	}
	if v.ElemType == ValueArray || !v.ElemType.valid() {
		return fmt.Errorf("array of %v cannot be written", v.ElemType)
	}
	var zero any
	switch v.ElemType {
	case ValueUint8:
		zero = []uint8(nil)
	case ValueInt8:
		zero = []int8(nil)
	case ValueUint16:
		zero = []uint16(nil)
	case ValueInt16:
		zero = []int16(nil)
	case ValueUint32:
		zero = []uint32(nil)
	case ValueInt32:
		zero = []int32(nil)
	case ValueFloat32:
		zero = []float32(nil)
	case ValueBool:
		zero = []bool(nil)
	case ValueString:
		zero = []string(nil)
	case ValueUint64:
		zero = []uint64(nil)
	case ValueInt64:
		zero = []int64(nil)
	case ValueFloat64:
		zero = []float64(nil)
	}
	if fmt.Sprintf("%T", zero) != fmt.Sprintf("%T", v.Data) {
		return fmt.Errorf("array data %T does not match element type %v", v.Data, v.ElemType)
	}
	le(uint32(ValueArray))
	le(uint32(v.ElemType))
	le(uint64(v.Len()))
	if s, ok := v.Data.([]string); ok {
		for _, x := range s {
			writeString(w, x)
		}
	} else {
		le(v.Data)
	}
	return nil
}

func scalarMatches(t ValueType, d any) bool {
	switch d.(type) {
	case uint8:
		return t == ValueUint8
	case int8:
		return t == ValueInt8
	case uint16:
		return t == ValueUint16
	case int16:
		return t == ValueInt16
	case uint32:
		return t == ValueUint32
	case int32:
		return t == ValueInt32
	case float32:
		return t == ValueFloat32
	case bool:
		return t == ValueBool
	case string:
		return t == ValueString
	case uint64:
		return t == ValueUint64
	case int64:
		return t == ValueInt64
	case float64:
		return t == ValueFloat64
	}
	return false
}

// Scalar returns a metadata value holding a Go scalar (uint8 ... float64, bool or string), its type taken from
// the Go type.
func Scalar(x any) Value {
	t := map[string]ValueType{"uint8": ValueUint8, "int8": ValueInt8, "uint16": ValueUint16, "int16": ValueInt16,
		"uint32": ValueUint32, "int32": ValueInt32, "float32": ValueFloat32, "bool": ValueBool, "string": ValueString,
		"uint64": ValueUint64, "int64": ValueInt64, "float64": ValueFloat64}[fmt.Sprintf("%T", x)]
	return Value{Type: t, Data: x}
}

// Float32ToHalf converts a float32 to IEEE 754 binary16 bits, rounding to nearest even as numpy's astype(float16)
// and ggml's GGML_FP32_TO_FP16 do; overflow gives infinity, tiny values subnormals or zero.
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := mant | 0x800000 // implicit bit
		shift := uint(14 - e)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(h)
}

// EncodeF32 returns src as little-endian F32 data.
func EncodeF32(src []float32) []byte {
	out := make([]byte, 4*len(src))
	for i, x := range src {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// EncodeF16 returns src rounded to F16 data (little-endian binary16).
func EncodeF16(src []float32) []byte {
	out := make([]byte, 2*len(src))
	for i, x := range src {
		binary.LittleEndian.PutUint16(out[2*i:], Float32ToHalf(x))
	}
	return out
}

// QuantizeQ8_0 quantizes src (a multiple of 32 values, rows laid end to end) to Q8_0 blocks of 34 bytes as
// ggml's quantize_row_q8_0_ref does: d = max|x|/127 stored as F16, q = roundf(x/d) (x·(1/d) in float32, halves
// away from zero) as int8.
func QuantizeQ8_0(src []float32) ([]byte, error) {
	if len(src)%32 != 0 {
		return nil, fmt.Errorf("gguf: Q8_0 needs a multiple of 32 values, got %d", len(src))
	}
	out := make([]byte, len(src)/32*34)
	for b := 0; b < len(src)/32; b++ {
		x := src[32*b : 32*b+32]
		var amax float32
		for _, v := range x {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		y := out[34*b : 34*b+34]
		binary.LittleEndian.PutUint16(y, Float32ToHalf(d))
		for j, v := range x {
			p := float32(v * id)
			y[2+j] = byte(int8(math.Round(float64(p))))
		}
	}
	return out, nil
}
