package weights

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// maxHeaderBytes bounds the JSON header of a safetensors file (the format's own limit is 100 MB).
const maxHeaderBytes = 100 << 20

// TensorInfo describes one tensor of a safetensors file.
type TensorInfo struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Safetensors is an open safetensors file: its header, read at open, and random access to the tensor data.
type Safetensors struct {
	Path     string
	Metadata map[string]string
	Tensors  map[string]TensorInfo
	f        *os.File
	dataOff  int64
	size     int64                      // file size in bytes
	maps     map[gotch.DType]*ts.Tensor // the file mapped as one 1-D tensor per dtype (Mapped)
}

var safetensorsDTypes = map[string]gotch.DType{
	"F64": gotch.Double, "F32": gotch.Float, "F16": gotch.Half, "BF16": gotch.BFloat16,
	"I64": gotch.Int64, "I32": gotch.Int, "I16": gotch.Int16, "I8": gotch.Int8, "U8": gotch.Uint8, "BOOL": gotch.Bool,
}

var safetensorsSizes = map[string]int64{"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

// OpenSafetensors reads and validates the header of a safetensors file. Close it when done.
func OpenSafetensors(path string) (*Safetensors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := readSafetensorsHeader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return st, nil
}

func readSafetensorsHeader(f *os.File, path string) (*Safetensors, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("weights: %s: reading header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderBytes || int64(n) > fi.Size()-8 {
		return nil, fmt.Errorf("weights: %s: header length %d is invalid for a file of %d bytes", path, n, fi.Size())
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("weights: %s: reading header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("weights: %s: header is not valid JSON: %w", path, err)
	}
	st := &Safetensors{Path: path, Tensors: map[string]TensorInfo{}, f: f, dataOff: 8 + int64(n), size: fi.Size()}
	dataLen := fi.Size() - st.dataOff
	// in name order, so that a file with several bad entries is always reported at the same one
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		msg := raw[name]
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &st.Metadata); err != nil {
				return nil, fmt.Errorf("weights: %s: __metadata__ must map strings to strings: %w", path, err)
			}
			continue
		}
		var ti TensorInfo
		if err := json.Unmarshal(msg, &ti); err != nil {
			return nil, fmt.Errorf("weights: %s: tensor %q: %w", path, name, err)
		}
		size, ok := safetensorsSizes[ti.DType]
		if !ok {
			return nil, fmt.Errorf("weights: %s: tensor %q has unsupported dtype %q", path, name, ti.DType)
		}
		numel := int64(1)
		for _, d := range ti.Shape {
			if d < 0 || (d > 0 && numel > math.MaxInt64/d) {
				return nil, fmt.Errorf("weights: %s: tensor %q has invalid shape %v", path, name, ti.Shape)
			}
			numel *= d
		}
		b, e := ti.DataOffsets[0], ti.DataOffsets[1]
		if b < 0 || e < b || e > dataLen || e-b != numel*size {
			return nil, fmt.Errorf("weights: %s: tensor %q: data offsets %v do not fit shape %v of %s in %d data bytes",
				path, name, ti.DataOffsets, ti.Shape, ti.DType, dataLen)
		}
		st.Tensors[name] = ti
	}
	return st, nil
}

// Names returns the tensor names in sorted order.
func (s *Safetensors) Names() []string {
	names := make([]string, 0, len(s.Tensors))
	for n := range s.Tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Bytes returns the raw little-endian data of one tensor.
func (s *Safetensors) Bytes(name string) ([]byte, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", s.Path, name)
	}
	buf := make([]byte, ti.DataOffsets[1]-ti.DataOffsets[0])
	if _, err := s.f.ReadAt(buf, s.dataOff+ti.DataOffsets[0]); err != nil {
		return nil, fmt.Errorf("weights: %s: reading tensor %q: %w", s.Path, name, err)
	}
	return buf, nil
}

// Tensor loads one tensor on the CPU with the dtype it has in the file, reading the file straight into the
// tensor's memory (no staging copy: a 7B checkpoint is 13.5 GB).
func (s *Safetensors) Tensor(name string) (*ts.Tensor, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", s.Path, name)
	}
	shape := ti.Shape
	if len(shape) == 0 {
		shape = []int64{1}
	}
	t := ts.MustEmpty(shape, safetensorsDTypes[ti.DType], gotch.CPU)
	if err := s.read(name, ti, t); err != nil {
		t.MustDrop()
		return nil, err
	}
	if len(ti.Shape) == 0 {
		return t.MustSqueezeDim(0, true), nil
	}
	return t, nil
}

// read copies the tensor's bytes from the file into t's memory (t: contiguous, on the CPU, of ti's size).
func (s *Safetensors) read(name string, ti TensorInfo, t *ts.Tensor) error {
	n := ti.DataOffsets[1] - ti.DataOffsets[0]
	if n == 0 {
		return nil
	}
	buf := unsafe.Slice((*byte)(t.MustDataPtr()), n)
	if _, err := s.f.ReadAt(buf, s.dataOff+ti.DataOffsets[0]); err != nil {
		return fmt.Errorf("weights: %s: reading tensor %q: %w", s.Path, name, err)
	}
	return nil
}

// Mapped returns tensor name as a CPU tensor over the file's bytes, memory-mapped copy-on-write: nothing is read
// until the tensor is used (its pages then fault in from the page cache, shared with it), and writing to it
// copies the written pages, leaving the file as it is. The mapping is libtorch's from_file (one per dtype, made on
// first use), which unmaps when the last tensor using it is freed, so the tensor outlives Close. It returns
// errUnsupported when the tensor's bytes are not aligned to its element size (or it is empty), where Tensor
// serves.
//
// LoadState gives a model's CPU tensor of the stored dtype this storage (set_), so that a 13.5 GB checkpoint
// loads in a moment, and reads through it otherwise. A file must not be rewritten in place while a model maps
// it (this module writes checkpoints to a new file and renames it).
func (s *Safetensors) Mapped(name string) (*ts.Tensor, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", s.Path, name)
	}
	dt := safetensorsDTypes[ti.DType]
	size := safetensorsSizes[ti.DType]
	off := s.dataOff + ti.DataOffsets[0]
	if off%size != 0 || ti.DataOffsets[1] == ti.DataOffsets[0] {
		return nil, errUnsupported
	}
	whole, ok := s.maps[dt]
	if !ok {
		var err error
		whole, err = ts.FromFile(s.Path, false, []int64{s.size / size}, dt, gotch.CPU)
		if err != nil {
			return nil, fmt.Errorf("weights: %s: mapping the file: %w", s.Path, err)
		}
		if s.maps == nil {
			s.maps = map[gotch.DType]*ts.Tensor{}
		}
		s.maps[dt] = whole
	}
	shape := slices.Clone(ti.Shape)
	stride := make([]int64, len(shape))
	n := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		stride[i] = n
		n *= shape[i]
	}
	v, err := whole.AsStrided(shape, stride, []int64{off / size}, false)
	if err != nil {
		return nil, fmt.Errorf("weights: %s: tensor %q: %w", s.Path, name, err)
	}
	return v, nil
}

// Shape returns a tensor's shape (Source).
func (s *Safetensors) Shape(name string) ([]int64, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", s.Path, name)
	}
	return ti.Shape, nil
}

// DType returns the dtype a tensor is stored in (Source).
func (s *Safetensors) DType(name string) (gotch.DType, error) {
	ti, ok := s.Tensors[name]
	if !ok {
		return gotch.Float, fmt.Errorf("weights: %s: no tensor %q", s.Path, name)
	}
	return safetensorsDTypes[ti.DType], nil
}

// Close closes the file and drops its mappings (tensors made by Mapped keep theirs alive).
func (s *Safetensors) Close() error {
	for _, t := range s.maps {
		t.MustDrop()
	}
	s.maps = nil
	return s.f.Close()
}

// ReadSafetensors loads every tensor of a file on the CPU, with its metadata.
func ReadSafetensors(path string) (map[string]*ts.Tensor, map[string]string, error) {
	st, err := OpenSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	out := make(map[string]*ts.Tensor, len(st.Tensors))
	for _, name := range st.Names() {
		t, err := st.Tensor(name)
		if err != nil {
			return nil, nil, err
		}
		out[name] = t
	}
	return out, st.Metadata, nil
}

// WriteSafetensors writes tensors (any device; F32, F64, F16, BF16, I64 or I32) to path atomically: a temporary
// file in the same directory is renamed over path once complete. Tensors are stored in the order given, each
// written from its own memory (a contiguous CPU copy only where it is not one already), so that writing a
// checkpoint holds at most one tensor more than the model does.
func WriteSafetensors(path string, tensors []nn.NamedTensor, metadata map[string]string) error {
	if !littleEndian {
		return fmt.Errorf("weights: %s: writing safetensors (little-endian) from a big-endian host is not supported", path)
	}
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, nt := range tensors {
		if _, dup := header[nt.Name]; dup || nt.Name == "" || nt.Name == "__metadata__" {
			return fmt.Errorf("weights: %s: duplicate, empty or reserved tensor name %q", path, nt.Name)
		}
		dt, ok := safetensorsNames[nt.Tensor.DType()]
		if !ok {
			return fmt.Errorf("weights: %s: tensor %q: unsupported dtype %v", path, nt.Name, nt.Tensor.DType())
		}
		n := int64(nt.Tensor.Numel()) * safetensorsSizes[dt]
		info := TensorInfo{DType: dt, Shape: nt.Tensor.MustSize(), DataOffsets: [2]int64{off, off + n}}
		if info.Shape == nil {
			info.Shape = []int64{}
		}
		off += n
		header[nt.Name] = info
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hdr)%8 != 0 { // the format pads the header with spaces to an 8-byte boundary
		hdr = append(hdr, ' ')
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		for _, nt := range tensors {
			if err := writeTensorData(w, nt.Tensor); err != nil {
				return fmt.Errorf("tensor %q: %w", nt.Name, err)
			}
		}
		return nil
	})
}

// safetensorsNames are the safetensors dtype names WriteSafetensors writes.
var safetensorsNames = map[gotch.DType]string{
	gotch.Float: "F32", gotch.Double: "F64", gotch.Half: "F16", gotch.BFloat16: "BF16", gotch.Int64: "I64", gotch.Int: "I32",
}

// littleEndian reports the host's byte order: libtorch keeps tensors in it, and safetensors is little-endian.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// writeTensorData writes t's elements in row-major order from a contiguous CPU tensor's memory (t itself when it
// is one).
func writeTensorData(w io.Writer, t *ts.Tensor) error {
	n := int64(t.Numel()) * int64(t.DType().Size())
	if n == 0 {
		return nil
	}
	c := t.MustDetach(false).MustTo(gotch.CPU, true).MustContiguous(true)
	defer c.MustDrop()
	_, err := w.Write(unsafe.Slice((*byte)(c.MustDataPtr()), n))
	return err
}
