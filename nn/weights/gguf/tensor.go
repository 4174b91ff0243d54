package gguf

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	// Name is the llama.cpp tensor name, e.g. "blk.0.attn_q.weight".
	Name string
	// Type is the storage type.
	Type GGMLType
	// Dims are the dimensions in ggml order: Dims[0] (ne[0]) is the
	// contiguous axis. See Shape for the PyTorch order.
	Dims []uint64
	// Offset is the data offset relative to the data section, as stored.
	Offset uint64
	// FileOffset is the absolute file offset of the tensor's first byte.
	FileOffset int64

	nElements uint64
	nBytes    uint64
}

// Shape returns the dimensions in PyTorch / NumPy row-major order, the
// reverse of Dims: a ggml tensor with ne = [576, 1536] has Shape() = [1536,
// 576], i.e. 1536 rows of 576 contiguous values.
func (ti *TensorInfo) Shape() []int {
	s := make([]int, len(ti.Dims))
	for i, d := range ti.Dims {
		s[len(s)-1-i] = int(d)
	}
	return s
}

// NumElements returns the number of values in the tensor.
func (ti *TensorInfo) NumElements() int64 { return int64(ti.nElements) }

// NumBytes returns the size of the tensor's data in the file.
func (ti *TensorInfo) NumBytes() int64 { return int64(ti.nBytes) }

// Tensor returns the description of the named tensor; the error wraps
// ErrNotFound when there is none.
func (f *File) Tensor(name string) (*TensorInfo, error) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", f.Path, name, ErrNotFound)
	}
	return &f.Tensors[i], nil
}

// TensorReader returns a reader over the named tensor's raw data.
func (f *File) TensorReader(name string) (*io.SectionReader, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(f.r, ti.FileOffset, ti.NumBytes()), nil
}

// ReadRaw returns the named tensor's data exactly as stored: ggml blocks for
// quantized types, little-endian values otherwise (for F16 and BF16, two
// bytes per element in Shape() row-major order).
func (f *File) ReadRaw(name string) ([]byte, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, ti.NumBytes())
	if err := f.readAt(ti, buf, 0); err != nil {
		return nil, err
	}
	return buf, nil
}

// ReadRawInto reads the named tensor's raw data into dst, which must be
// exactly NumBytes() long.
func (f *File) ReadRawInto(name string, dst []byte) error {
	ti, err := f.Tensor(name)
	if err != nil {
		return err
	}
	if int64(len(dst)) != ti.NumBytes() {
		return fmt.Errorf("gguf: %s: tensor %q has %d bytes, destination has %d", f.Path, name, ti.NumBytes(), len(dst))
	}
	return f.readAt(ti, dst, 0)
}

// readAt reads len(buf) bytes of ti's data starting off bytes into it.
func (f *File) readAt(ti *TensorInfo, buf []byte, off int64) error {
	n, err := f.r.ReadAt(buf, ti.FileOffset+off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("gguf: %s: reading tensor %q data at offset %d: %w", f.Path, ti.Name, ti.FileOffset+off, err)
}

// Float32 returns the named tensor dequantized to float32, row-major in
// Shape() order.
func (f *File) Float32(name string) ([]float32, error) {
	ti, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	if !ti.Type.CanDequantize() {
		return nil, fmt.Errorf("gguf: %s: tensor %q: dequantization of %s is not supported", f.Path, name, ti.Type)
	}
	dst := make([]float32, ti.NumElements())
	if err := f.float32Into(ti, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// Float32Into dequantizes the named tensor into dst, which must hold exactly
// NumElements() values.
func (f *File) Float32Into(name string, dst []float32) error {
	ti, err := f.Tensor(name)
	if err != nil {
		return err
	}
	if int64(len(dst)) != ti.NumElements() {
		return fmt.Errorf("gguf: %s: tensor %q has %d elements, destination has %d", f.Path, name, ti.NumElements(), len(dst))
	}
	return f.float32Into(ti, dst)
}

// chunkBytes is the amount of raw data one worker reads and dequantizes at a
// time.
const chunkBytes = 1 << 20

// float32Into reads ti in chunks of whole blocks and dequantizes them in
// parallel, never holding more than one chunk of raw data per worker.
func (f *File) float32Into(ti *TensorInfo, dst []float32) error {
	bs, ts := int64(ti.Type.BlockSize()), int64(ti.Type.TypeSize())
	if bs == 0 {
		return fmt.Errorf("gguf: %s: tensor %q: unknown type %s", f.Path, ti.Name, ti.Type)
	}
	nBlocks := ti.NumElements() / bs
	perChunk := max(chunkBytes/ts, 1)
	nChunks := (nBlocks + perChunk - 1) / perChunk
	workers := int64(min(runtime.GOMAXPROCS(0), 8))
	workers = min(workers, nChunks)
	if workers <= 1 {
		buf := make([]byte, min(perChunk, nBlocks)*ts)
		for c := range nChunks {
			if err := f.dequantChunk(ti, dst, buf, c, perChunk, nBlocks); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int64)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, perChunk*ts)
			for c := range next {
				if err := f.dequantChunk(ti, dst, buf, c, perChunk, nBlocks); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for c := range nChunks {
		next <- c
	}
	close(next)
	wg.Wait()
	return first
}

// dequantChunk handles chunk c: blocks [c*perChunk, min((c+1)*perChunk, nBlocks)).
func (f *File) dequantChunk(ti *TensorInfo, dst []float32, buf []byte, c, perChunk, nBlocks int64) error {
	bs, ts := int64(ti.Type.BlockSize()), int64(ti.Type.TypeSize())
	b0 := c * perChunk
	b1 := min(b0+perChunk, nBlocks)
	raw := buf[:(b1-b0)*ts]
	if err := f.readAt(ti, raw, b0*ts); err != nil {
		return err
	}
	if err := Dequantize(ti.Type, raw, dst[b0*bs:b1*bs]); err != nil {
		return fmt.Errorf("gguf: %s: tensor %q: %w", f.Path, ti.Name, err)
	}
	return nil
}
