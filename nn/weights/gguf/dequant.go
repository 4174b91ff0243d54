package gguf

import (
	"encoding/binary"
	"fmt"
)

// dequantFunc converts whole blocks: len(src) is a multiple of the type size
// and len(dst) the matching number of elements.
type dequantFunc func(src []byte, dst []float32)

var dequantizers map[GGMLType]dequantFunc

func init() {
	dequantizers = map[GGMLType]dequantFunc{
		TypeF32:  dequantF32,
		TypeF16:  dequantF16,
		TypeBF16: dequantBF16,
		TypeQ4_0: dequantQ4_0,
		TypeQ4_1: dequantQ4_1,
		TypeQ5_0: dequantQ5_0,
		TypeQ5_1: dequantQ5_1,
		TypeQ8_0: dequantQ8_0,
		TypeQ2_K: dequantQ2K,
		TypeQ3_K: dequantQ3K,
		TypeQ4_K: dequantQ4K,
		TypeQ5_K: dequantQ5K,
		TypeQ6_K: dequantQ6K,
		TypeQ8_K: dequantQ8K,
	}
}

// Dequantize converts src, a whole number of ggml blocks of type t, to
// float32 in dst. len(dst) must equal len(src)/t.TypeSize()*t.BlockSize().
// The arithmetic and its rounding follow ggml's dequantize_row_* reference
// code, so results are bit-identical to ggml and gguf-py.
func Dequantize(t GGMLType, src []byte, dst []float32) error {
	fn, ok := dequantizers[t]
	if !ok {
		return fmt.Errorf("dequantization of %s is not supported", t)
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	if len(src)%ts != 0 {
		return fmt.Errorf("%s data of %d bytes is not a whole number of %d-byte blocks", t, len(src), ts)
	}
	if want := len(src) / ts * bs; len(dst) != want {
		return fmt.Errorf("%s data of %d bytes holds %d values, destination has %d", t, len(src), want, len(dst))
	}
	fn(src, dst)
	return nil
}

// Explicit float32 conversions below round every product before the next
// addition, as ggml's C code does, and keep the compiler from fusing them
// into FMA instructions.

// dequantQ4_0: block {f16 d; u8 qs[16]}; y[j] = (lo4(qs[j])-8)*d,
// y[j+16] = (hi4(qs[j])-8)*d.
func dequantQ4_0(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d := f16At(src)
		qs := src[2:18]
		y := dst[b*32 : b*32+32]
		for j := range 16 {
			y[j] = float32(int(qs[j]&0x0F)-8) * d
			y[j+16] = float32(int(qs[j]>>4)-8) * d
		}
		src = src[18:]
	}
}

// dequantQ4_1: block {f16 d, m; u8 qs[16]}; y = q*d + m.
func dequantQ4_1(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d, m := f16At(src), f16At(src[2:])
		qs := src[4:20]
		y := dst[b*32 : b*32+32]
		for j := range 16 {
			y[j] = float32(float32(qs[j]&0x0F)*d) + m
			y[j+16] = float32(float32(qs[j]>>4)*d) + m
		}
		src = src[20:]
	}
}

// dequantQ5_0: block {f16 d; u32 qh; u8 qs[16]}; bit j of qh is the fifth
// bit of element j; y = (q-16)*d.
func dequantQ5_0(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d := f16At(src)
		qh := binary.LittleEndian.Uint32(src[2:])
		qs := src[6:22]
		y := dst[b*32 : b*32+32]
		for j := range 16 {
			h0 := byte((qh>>j)<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(int(qs[j]&0x0F|h0)-16) * d
			y[j+16] = float32(int(qs[j]>>4|h1)-16) * d
		}
		src = src[22:]
	}
}

// dequantQ5_1: block {f16 d, m; u32 qh; u8 qs[16]}; y = q*d + m.
func dequantQ5_1(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d, m := f16At(src), f16At(src[2:])
		qh := binary.LittleEndian.Uint32(src[4:])
		qs := src[8:24]
		y := dst[b*32 : b*32+32]
		for j := range 16 {
			h0 := byte((qh>>j)<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(float32(qs[j]&0x0F|h0)*d) + m
			y[j+16] = float32(float32(qs[j]>>4|h1)*d) + m
		}
		src = src[24:]
	}
}

// dequantQ8_0: block {f16 d; i8 qs[32]}; y = q*d.
func dequantQ8_0(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d := f16At(src)
		qs := src[2:34]
		y := dst[b*32 : b*32+32]
		for j := range 32 {
			y[j] = float32(int8(qs[j])) * d
		}
		src = src[34:]
	}
}
