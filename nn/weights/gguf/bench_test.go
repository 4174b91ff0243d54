package gguf

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"
)

// BenchmarkDequantize measures the block decoders on 1 Mi values.
func BenchmarkDequantize(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, typ := range []GGMLType{TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ8_0, TypeQ4_K, TypeQ6_K} {
		n := 1 << 20
		src := make([]byte, n/typ.BlockSize()*typ.TypeSize())
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		dst := make([]float32, n)
		b.Run(typ.String(), func(b *testing.B) {
			b.SetBytes(int64(n) * 4)
			for b.Loop() {
				if err := Dequantize(typ, src, dst); err != nil {
					b.Fatal(fmt.Sprint(err))
				}
			}
		})
	}
}

// BenchmarkSmolLM2Open measures parsing the real SmolLM2 file's header,
// metadata (49152 tokens, 48900 merges) and tensor table.
func BenchmarkSmolLM2Open(b *testing.B) {
	path := reftest.SmolLM2(b)
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
	}
}

// BenchmarkSmolLM2DequantizeAll measures dequantizing every tensor of the
// real SmolLM2 file (134.5 M values) into a reused buffer.
func BenchmarkSmolLM2DequantizeAll(b *testing.B) {
	f, err := Open(reftest.SmolLM2(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var largest, total int64
	for _, ti := range f.Tensors {
		largest = max(largest, ti.NumElements())
		total += ti.NumElements()
	}
	buf := make([]float32, largest)
	b.SetBytes(total * 4)
	for b.Loop() {
		for _, ti := range f.Tensors {
			if err := f.Float32Into(ti.Name, buf[:ti.NumElements()]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
