package gguf

import (
	"encoding/binary"
	"math"
)

// f16Table maps every IEEE 754 binary16 bit pattern to its float32 value.
var f16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = halfBitsToFloat32(uint16(i))
	}
	return &t
}()

// halfBitsToFloat32 converts binary16 bits to float32 exactly, keeping
// signed zeros, subnormals, infinities and NaN payloads.
func halfBitsToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		// Zero or subnormal: mant * 2^-24, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(v))
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// HalfToFloat32 converts IEEE 754 binary16 bits (ggml_fp16_t) to float32.
func HalfToFloat32(h uint16) float32 { return f16Table[h] }

// BF16ToFloat32 converts bfloat16 bits to float32 (exact).
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// f16At reads a little-endian binary16 value at b[0:2] as float32.
func f16At(b []byte) float32 { return f16Table[binary.LittleEndian.Uint16(b)] }

func dequantF32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func dequantF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = f16Table[binary.LittleEndian.Uint16(src[2*i:])]
	}
}

func dequantBF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
}
