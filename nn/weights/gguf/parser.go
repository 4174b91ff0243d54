package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// parser decodes the sequential part of a GGUF file (header, metadata and
// tensor descriptions) from a buffered reader, tracking the file offset for
// error messages.
type parser struct {
	br      *bufio.Reader
	pos     int64
	size    int64
	path    string
	scratch [8]byte
}

func newParser(r io.ReaderAt, size int64, path string) *parser {
	return &parser{
		br:   bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10),
		size: size,
		path: path,
	}
}

// desc names what is being read for error messages. It is formatted only
// when an error is reported, so reading large arrays allocates nothing for
// it.
type desc struct {
	name string
	idx  int    // element index, or -1
	part string // "length", "element type", ... or ""
}

// what returns a desc for a named item.
func what(name string) desc { return desc{name: name, idx: -1} }

// String formats the description: `metadata key "k"[3] length`.
func (d desc) String() string {
	s := d.name
	if d.idx >= 0 {
		s += "[" + strconv.Itoa(d.idx) + "]"
	}
	if d.part != "" {
		s += " " + d.part
	}
	return s
}

func (d desc) with(part string) desc { d.part = part; return d }

// elem describes element i of the described array.
func (d desc) elem(i int) desc {
	if d.idx >= 0 || d.part != "" {
		return desc{name: d.String(), idx: i}
	}
	d.idx = i
	return d
}

// errorf returns a FormatError at the given offset.
func (p *parser) errorf(off int64, format string, args ...any) error {
	return &FormatError{Path: p.path, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// remaining is the number of unread bytes in the file.
func (p *parser) remaining() int64 { return p.size - p.pos }

// readFull fills buf, reporting a truncated file as a FormatError that names
// what was being read.
func (p *parser) readFull(buf []byte, what desc) error {
	if int64(len(buf)) > p.remaining() {
		return p.errorf(p.pos, "truncated file: %s needs %d bytes but only %d remain", what, len(buf), p.remaining())
	}
	n, err := io.ReadFull(p.br, buf)
	p.pos += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return p.errorf(p.pos, "truncated file while reading %s", what)
		}
		return fmt.Errorf("gguf: %s: reading %s at offset %d: %w", p.path, what, p.pos, err)
	}
	return nil
}

func (p *parser) u32(what desc) (uint32, error) {
	b := p.scratch[:4]
	if err := p.readFull(b, what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) u64(what desc) (uint64, error) {
	b := p.scratch[:8]
	if err := p.readFull(b, what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a GGUF string: a uint64 byte length followed by the bytes.
func (p *parser) str(what desc) (string, error) {
	start := p.pos
	n, err := p.u64(what.with("length"))
	if err != nil {
		return "", err
	}
	if n > MaxStringLen {
		return "", p.errorf(start, "%s length %d exceeds the limit of %d bytes", what, n, MaxStringLen)
	}
	if int64(n) > p.remaining() {
		return "", p.errorf(start, "truncated file: %s length %d exceeds the %d bytes left", what, n, p.remaining())
	}
	buf := make([]byte, n)
	if err := p.readFull(buf, what); err != nil {
		return "", err
	}
	return string(buf), nil
}

// scalar decodes one fixed-size scalar of type t from b (len(b) ==
// t.scalarSize()).
func scalar(t ValueType, b []byte) any {
	le := binary.LittleEndian
	switch t {
	case ValueUint8:
		return b[0]
	case ValueInt8:
		return int8(b[0])
	case ValueBool:
		return b[0] != 0
	case ValueUint16:
		return le.Uint16(b)
	case ValueInt16:
		return int16(le.Uint16(b))
	case ValueUint32:
		return le.Uint32(b)
	case ValueInt32:
		return int32(le.Uint32(b))
	case ValueFloat32:
		return math.Float32frombits(le.Uint32(b))
	case ValueUint64:
		return le.Uint64(b)
	case ValueInt64:
		return int64(le.Uint64(b))
	case ValueFloat64:
		return math.Float64frombits(le.Uint64(b))
	}
	return nil
}

// value reads one value of type t. depth counts enclosing arrays.
func (p *parser) value(t ValueType, what desc, depth int) (Value, error) {
	start := p.pos
	switch {
	case !t.valid():
		return Value{}, p.errorf(start, "%s has unknown value type id %d", what, uint32(t))
	case t == ValueString:
		s, err := p.str(what)
		return Value{Type: ValueString, Data: s}, err
	case t == ValueArray:
		return p.array(what, depth)
	}
	b := p.scratch[:t.scalarSize()]
	if err := p.readFull(b, what); err != nil {
		return Value{}, err
	}
	return Value{Type: t, Data: scalar(t, b)}, nil
}

// array reads an array value: element type, uint64 count, elements.
func (p *parser) array(what desc, depth int) (Value, error) {
	start := p.pos
	if depth >= MaxArrayDepth {
		return Value{}, p.errorf(start, "%s nests arrays deeper than %d levels", what, MaxArrayDepth)
	}
	et32, err := p.u32(what.with("element type"))
	if err != nil {
		return Value{}, err
	}
	et := ValueType(et32)
	if !et.valid() {
		return Value{}, p.errorf(start, "%s has unknown array element type id %d", what, et32)
	}
	n, err := p.u64(what.with("array length"))
	if err != nil {
		return Value{}, err
	}
	if n > MaxArrayLen {
		return Value{}, p.errorf(start, "%s array length %d exceeds the limit of %d", what, n, MaxArrayLen)
	}
	// Every element takes at least minSize bytes in the file.
	minSize := uint64(et.scalarSize())
	switch et {
	case ValueString:
		minSize = 8
	case ValueArray:
		minSize = 12
	}
	if n*minSize > uint64(p.remaining()) {
		return Value{}, p.errorf(start, "truncated file: %s array of %d %s elements needs at least %d bytes but only %d remain",
			what, n, et, n*minSize, p.remaining())
	}
	v := Value{Type: ValueArray, ElemType: et}
	switch et {
	case ValueString:
		out := make([]string, n)
		for i := range out {
			if out[i], err = p.str(what.elem(i)); err != nil {
				return Value{}, err
			}
		}
		v.Data = out
	case ValueArray:
		out := make([]Value, n)
		for i := range out {
			if out[i], err = p.array(what.elem(i), depth+1); err != nil {
				return Value{}, err
			}
		}
		v.Data = out
	default:
		raw := make([]byte, n*minSize)
		if err := p.readFull(raw, what); err != nil {
			return Value{}, err
		}
		v.Data = decodeScalars(et, raw, int(n))
	}
	return v, nil
}

// decodeScalars converts n little-endian scalars of type t into a typed slice.
func decodeScalars(t ValueType, raw []byte, n int) any {
	sz := t.scalarSize()
	switch t {
	case ValueUint8:
		return raw
	case ValueInt8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out
	case ValueBool:
		out := make([]bool, n)
		for i := range out {
			out[i] = raw[i] != 0
		}
		return out
	}
	le := binary.LittleEndian
	switch t {
	case ValueUint16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[i*sz:])
		}
		return out
	case ValueInt16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[i*sz:]))
		}
		return out
	case ValueUint32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[i*sz:])
		}
		return out
	case ValueInt32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[i*sz:]))
		}
		return out
	case ValueFloat32:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[i*sz:]))
		}
		return out
	case ValueUint64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[i*sz:])
		}
		return out
	case ValueInt64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[i*sz:]))
		}
		return out
	case ValueFloat64:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[i*sz:]))
		}
		return out
	}
	return nil
}
