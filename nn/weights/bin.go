package weights

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"reflect"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/pickle"
	"github.com/sugarme/gotch/ts"
)

// binFile is a pytorch_model.bin (a torch.save zip archive of a state dict), decoded with gotch's pickle package.
// The whole file is decoded at open (the pickle format has no index); tensors are built one at a time from the
// decoded storages.
type binFile struct {
	path    string
	tensors map[string]*pickle.StorageTensor
}

// openBin decodes a state dict saved by torch.save. fp32, fp16, bf16, fp64 and integer tensors load.
func openBin(path string) (b *binFile, err error) {
	defer func() { // gotch's unpickler panics on some legacy layouts it does not implement
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("weights: %s: cannot decode the pickle: %v", path, r)
		}
	}()
	if err := checkZipArchive(path); err != nil {
		return nil, err
	}
	newUnpickler := func(r io.Reader) pickle.Unpickler {
		u := pickle.NewUnpickler(r)
		u.FindClass = binFindClass
		return u
	}
	res, err := pickle.LoadWithUnpickler(path, newUnpickler)
	if err != nil {
		return nil, fmt.Errorf("weights: %s: %w", path, err)
	}
	b = &binFile{path: path, tensors: map[string]*pickle.StorageTensor{}}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("weights: %s: state dict key %v is not a string", path, k)
		}
		st, ok := v.(*pickle.StorageTensor)
		if !ok {
			return fmt.Errorf("weights: %s: %q is a %T, not a tensor", path, name, v)
		}
		if err := checkStorageTensor(st); err != nil {
			return fmt.Errorf("weights: %s: tensor %q: %w", path, name, err)
		}
		b.tensors[name] = st
		return nil
	}
	switch d := res.(type) {
	case *pickle.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*pickle.OrderedDictEntry)
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	case *pickle.Dict:
		for _, entry := range *d {
			if err := add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("weights: %s: the pickle holds a %T, not a state dict", path, res)
	}
	return b, nil
}

// checkZipArchive reports a file that starts as a zip archive (torch.save's format since PyTorch 1.6) but does not
// open as one: a download or copy cut short. gotch's reader would take it for the legacy format and fail on an
// unrelated pickle opcode.
func checkZipArchive(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "PK\x03\x04" {
		return nil // not a zip archive: the legacy torch.save format, or not a checkpoint (the decoder says which)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := zip.NewReader(f, fi.Size()); err != nil {
		return fmt.Errorf("weights: %s: a torch.save zip archive that does not open (%v): the file is cut short or corrupt", path, err)
	}
	return nil
}

// binFindClass resolves the storage classes gotch's pickle package does not map itself.
func binFindClass(module, name string) (any, error) {
	if module == "torch" && name == "BFloat16Storage" {
		return &pickle.BFloat16StorageClass{}, nil
	}
	return nil, fmt.Errorf("unsupported class %s.%s in the pickle", module, name)
}

// checkStorageTensor verifies that a tensor's view lies inside its storage.
func checkStorageTensor(st *pickle.StorageTensor) error {
	if len(st.Size) != len(st.Stride) {
		return fmt.Errorf("shape %v and strides %v differ in length", st.Size, st.Stride)
	}
	data := reflect.ValueOf(st.Source.GetData())
	if data.Kind() != reflect.Slice {
		return fmt.Errorf("storage of type %T has no data", st.Source)
	}
	n := int64(data.Len())
	last := st.StorageOffset // index of the last element the view touches
	for i, d := range st.Size {
		if d < 0 || st.Stride[i] < 0 {
			return fmt.Errorf("invalid shape %v or strides %v", st.Size, st.Stride)
		}
		if d == 0 {
			return nil
		}
		last += (d - 1) * st.Stride[i]
	}
	if st.StorageOffset < 0 || last >= n {
		return fmt.Errorf("view (offset %d, shape %v, strides %v) exceeds its storage of %d elements",
			st.StorageOffset, st.Size, st.Stride, n)
	}
	return nil
}

// Names lists the tensor names, sorted.
func (b *binFile) Names() []string { return sortedKeys(b.tensors) }

// Shape returns a tensor's shape.
func (b *binFile) Shape(name string) ([]int64, error) {
	st, ok := b.tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", b.path, name)
	}
	return append([]int64{}, st.Size...), nil
}

// DType returns a tensor's stored dtype.
func (b *binFile) DType(name string) (gotch.DType, error) {
	st, ok := b.tensors[name]
	if !ok {
		return gotch.Float, fmt.Errorf("weights: %s: no tensor %q", b.path, name)
	}
	return st.Source.DType(), nil
}

// Tensor builds one tensor on the CPU, contiguous, in its stored dtype.
func (b *binFile) Tensor(name string) (*ts.Tensor, error) {
	st, ok := b.tensors[name]
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", b.path, name)
	}
	data := reflect.ValueOf(st.Source.GetData())
	n := data.Len()
	dt := st.Source.DType()
	if n == 0 {
		return ts.MustZeros(st.Size, dt, gotch.CPU), nil
	}
	size := int(data.Type().Elem().Size())
	raw := unsafe.Slice((*byte)(data.UnsafePointer()), n*size)
	flat, err := ts.OfDataSize(raw, []int64{int64(n)}, dt)
	if err != nil {
		return nil, fmt.Errorf("weights: %s: tensor %q: %w", b.path, name, err)
	}
	v, err := flat.AsStrided(st.Size, st.Stride, []int64{st.StorageOffset}, true)
	if err != nil {
		return nil, fmt.Errorf("weights: %s: tensor %q: %w", b.path, name, err)
	}
	return v.MustContiguous(true), nil
}

// Close releases the decoded storages.
func (b *binFile) Close() error {
	b.tensors = nil
	return nil
}
