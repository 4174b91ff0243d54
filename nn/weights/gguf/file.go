package gguf

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
)

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// File is an open GGUF file: its parsed metadata and tensor descriptions, and
// random access to the tensor data. The methods that read tensor data are
// safe for concurrent use.
type File struct {
	// Path names the file in error messages.
	Path string
	// Version is the GGUF format version (2 or 3).
	Version uint32
	// Alignment is the data alignment in bytes (general.alignment or 32).
	Alignment uint64
	// DataOffset is the absolute file offset of the tensor data section.
	DataOffset int64
	// Size is the file size in bytes.
	Size int64
	// KVs lists the metadata entries in file order.
	KVs []KV
	// Tensors lists the tensor descriptions in file order.
	Tensors []TensorInfo

	kvIndex     map[string]int
	tensorIndex map[string]int
	r           io.ReaderAt
	closer      io.Closer
}

// Open opens and parses the GGUF file at path. Tensor data is not read until
// asked for; call Close when done.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("gguf: %w", err)
	}
	f, err := NewFile(fh, st.Size(), path)
	if err != nil {
		_ = fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// NewFile parses a GGUF file held by r, which must stay readable while the
// returned File is used. name labels the file in error messages.
func NewFile(r io.ReaderAt, size int64, name string) (*File, error) {
	p := newParser(r, size, name)
	f := &File{Path: name, Size: size, r: r, Alignment: DefaultAlignment}
	if err := f.parseHeader(p); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the underlying file when the File was made by Open.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

func (f *File) parseHeader(p *parser) error {
	var magic [4]byte
	if p.size < 4 {
		return p.errorf(0, "truncated header: file is %d bytes, too short for the GGUF magic", p.size)
	}
	if err := p.readFull(magic[:], what("magic")); err != nil {
		return err
	}
	if string(magic[:]) != Magic {
		return p.errorf(0, "bad magic %q, want %q: not a GGUF file", magic[:], Magic)
	}
	v, err := p.u32(what("version"))
	if err != nil {
		return truncatedHeader(err)
	}
	switch {
	case v == 2 || v == 3:
	case v == 1:
		return p.errorf(4, "GGUF version 1 is not supported (versions 2 and 3 are)")
	case v&0xFFFF == 0:
		return p.errorf(4, "version field %#x looks byte-swapped: big-endian GGUF files are not supported", v)
	default:
		return p.errorf(4, "unsupported GGUF version %d (versions 2 and 3 are supported)", v)
	}
	f.Version = v
	nTensors, err := p.u64(what("tensor count"))
	if err != nil {
		return truncatedHeader(err)
	}
	nKV, err := p.u64(what("metadata count"))
	if err != nil {
		return truncatedHeader(err)
	}
	if nTensors > MaxTensors {
		return p.errorf(8, "tensor count %d exceeds the limit of %d", nTensors, MaxTensors)
	}
	if nKV > MaxKVs {
		return p.errorf(16, "metadata count %d exceeds the limit of %d", nKV, MaxKVs)
	}
	// Each entry takes at least 12 bytes (key length and type), each tensor
	// description at least 24 (name length, rank, type, offset).
	if nKV*12+nTensors*24 > uint64(p.remaining()) {
		return p.errorf(p.pos, "truncated file: %d metadata entries and %d tensors cannot fit in the %d bytes left",
			nKV, nTensors, p.remaining())
	}
	if err := f.parseKVs(p, int(nKV)); err != nil {
		return err
	}
	if err := f.parseTensorInfos(p, int(nTensors)); err != nil {
		return err
	}
	return f.placeTensors(p)
}

// truncatedHeader rewords a truncation inside the fixed header.
func truncatedHeader(err error) error {
	if fe, ok := err.(*FormatError); ok {
		fe.Msg = "truncated header: " + fe.Msg
	}
	return err
}

func (f *File) parseKVs(p *parser, n int) error {
	f.KVs = make([]KV, 0, n)
	f.kvIndex = make(map[string]int, n)
	for i := range n {
		start := p.pos
		key, err := p.str(what(fmt.Sprintf("metadata entry %d key", i)))
		if err != nil {
			return err
		}
		if _, dup := f.kvIndex[key]; dup {
			return p.errorf(start, "duplicate metadata key %q", key)
		}
		t, err := p.u32(what(fmt.Sprintf("type of metadata key %q", key)))
		if err != nil {
			return err
		}
		val, err := p.value(ValueType(t), what(fmt.Sprintf("metadata key %q", key)), 0)
		if err != nil {
			return err
		}
		f.kvIndex[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: val})
	}
	if i, ok := f.kvIndex["general.alignment"]; ok {
		v := f.KVs[i].Value
		a, isU32 := v.Data.(uint32)
		if v.Type != ValueUint32 || !isU32 {
			return p.errorf(-1, "metadata key \"general.alignment\" is %s, want uint32", v.TypeName())
		}
		if a == 0 || a&(a-1) != 0 {
			return p.errorf(-1, "general.alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}
	return nil
}

func (f *File) parseTensorInfos(p *parser, n int) error {
	f.Tensors = make([]TensorInfo, 0, n)
	f.tensorIndex = make(map[string]int, n)
	for i := range n {
		start := p.pos
		name, err := p.str(what(fmt.Sprintf("tensor %d name", i)))
		if err != nil {
			return err
		}
		if _, dup := f.tensorIndex[name]; dup {
			return p.errorf(start, "duplicate tensor name %q", name)
		}
		tw := fmt.Sprintf("tensor %q", name)
		nd, err := p.u32(what(tw + " rank"))
		if err != nil {
			return err
		}
		if nd > MaxDims {
			return p.errorf(start, "%s has %d dimensions, more than the %d ggml supports", tw, nd, MaxDims)
		}
		ti := TensorInfo{Name: name, Dims: make([]uint64, nd)}
		for d := range ti.Dims {
			if ti.Dims[d], err = p.u64(what(tw).with(fmt.Sprintf("dimension %d", d))); err != nil {
				return err
			}
		}
		t, err := p.u32(what(tw + " type"))
		if err != nil {
			return err
		}
		ti.Type = GGMLType(t)
		if ti.Offset, err = p.u64(what(tw + " data offset")); err != nil {
			return err
		}
		if err := ti.validate(f.Alignment); err != nil {
			return p.errorf(start, "%v", err)
		}
		f.tensorIndex[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}
	return nil
}

// placeTensors computes the data section start and checks that every
// tensor's bytes lie inside the file.
func (f *File) placeTensors(p *parser) error {
	pos := uint64(p.pos)
	if r := pos % f.Alignment; r != 0 {
		pos += f.Alignment - r
	}
	f.DataOffset = int64(pos)
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		start, c1 := bits.Add64(pos, ti.Offset, 0)
		end, c2 := bits.Add64(start, ti.nBytes, 0)
		if c1 != 0 || c2 != 0 || end > uint64(f.Size) {
			return p.errorf(-1, "tensor %q's data out of range: offset %d + %d bytes from data start %d exceeds the file size %d",
				ti.Name, ti.Offset, ti.nBytes, pos, f.Size)
		}
		ti.FileOffset = int64(start)
	}
	return nil
}

// validate checks a tensor description and computes its element and byte
// counts.
func (ti *TensorInfo) validate(alignment uint64) error {
	tr, ok := ggmlTypes[ti.Type]
	if !ok {
		return fmt.Errorf("unknown type id %d for tensor %q", uint32(ti.Type), ti.Name)
	}
	n := uint64(1)
	for d, ne := range ti.Dims {
		if ne > math.MaxInt64 {
			return fmt.Errorf("tensor %q dimension %d is %d, above the int64 range", ti.Name, d, ne)
		}
		hi, lo := bits.Mul64(n, ne)
		if hi != 0 || lo > math.MaxInt64 {
			return fmt.Errorf("tensor %q has too many elements: dimensions %v overflow int64", ti.Name, ti.Dims)
		}
		n = lo
	}
	ne0 := uint64(1)
	if len(ti.Dims) > 0 {
		ne0 = ti.Dims[0]
	}
	if ne0%tr.blockSize != 0 {
		return fmt.Errorf("tensor %q: shape/size mismatch: row length ne[0]=%d is not a multiple of the %s block size %d",
			ti.Name, ne0, tr.name, tr.blockSize)
	}
	hi, lo := bits.Mul64(n/tr.blockSize, tr.typeSize)
	if hi != 0 || lo > math.MaxInt64 {
		return fmt.Errorf("tensor %q data size overflows int64", ti.Name)
	}
	if ti.Offset%alignment != 0 {
		return fmt.Errorf("tensor %q data offset %d is not a multiple of the alignment %d", ti.Name, ti.Offset, alignment)
	}
	ti.nElements = n
	ti.nBytes = lo
	return nil
}
