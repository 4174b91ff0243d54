package gguf

import "fmt"

// GGMLType is a ggml tensor data type id as stored in a GGUF tensor
// description (enum ggml_type in ggml.h).
type GGMLType uint32

// ggml tensor types. Ids 4 and 5 were retired by ggml and are rejected.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeQ4_0_44 GGMLType = 31
	TypeQ4_0_48 GGMLType = 32
	TypeQ4_0_88 GGMLType = 33
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

// typeTraits describes the storage of one ggml type: blockSize elements are
// stored in typeSize bytes.
type typeTraits struct {
	name      string
	blockSize uint64
	typeSize  uint64
}

// qkK is the super-block size of the K-quants (QK_K in ggml).
const qkK = 256

var ggmlTypes = map[GGMLType]typeTraits{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeQ4_0:    {"Q4_0", 32, 18},
	TypeQ4_1:    {"Q4_1", 32, 20},
	TypeQ5_0:    {"Q5_0", 32, 22},
	TypeQ5_1:    {"Q5_1", 32, 24},
	TypeQ8_0:    {"Q8_0", 32, 34},
	TypeQ8_1:    {"Q8_1", 32, 36},
	TypeQ2_K:    {"Q2_K", qkK, 84},
	TypeQ3_K:    {"Q3_K", qkK, 110},
	TypeQ4_K:    {"Q4_K", qkK, 144},
	TypeQ5_K:    {"Q5_K", qkK, 176},
	TypeQ6_K:    {"Q6_K", qkK, 210},
	TypeQ8_K:    {"Q8_K", qkK, 292},
	TypeIQ2_XXS: {"IQ2_XXS", qkK, 66},
	TypeIQ2_XS:  {"IQ2_XS", qkK, 74},
	TypeIQ3_XXS: {"IQ3_XXS", qkK, 98},
	TypeIQ1_S:   {"IQ1_S", qkK, 50},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18},
	TypeIQ3_S:   {"IQ3_S", qkK, 110},
	TypeIQ2_S:   {"IQ2_S", qkK, 82},
	TypeIQ4_XS:  {"IQ4_XS", qkK, 136},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeF64:     {"F64", 1, 8},
	TypeIQ1_M:   {"IQ1_M", qkK, 56},
	TypeBF16:    {"BF16", 1, 2},
	TypeQ4_0_44: {"Q4_0_4_4", 32, 18},
	TypeQ4_0_48: {"Q4_0_4_8", 32, 18},
	TypeQ4_0_88: {"Q4_0_8_8", 32, 18},
	TypeTQ1_0:   {"TQ1_0", qkK, 54},
	TypeTQ2_0:   {"TQ2_0", qkK, 66},
	TypeMXFP4:   {"MXFP4", 32, 17},
}

// String returns ggml's upper-case name of the type ("Q4_K"), or
// "GGMLType(N)" for an unknown id.
func (t GGMLType) String() string {
	if tr, ok := ggmlTypes[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("GGMLType(%d)", uint32(t))
}

// Known reports whether t is a ggml type this package can size.
func (t GGMLType) Known() bool {
	_, ok := ggmlTypes[t]
	return ok
}

// BlockSize returns the number of elements in one storage block of t (1 for
// plain types, 32 or 256 for quantized types), or 0 for an unknown type.
func (t GGMLType) BlockSize() int { return int(ggmlTypes[t].blockSize) }

// TypeSize returns the number of bytes of one storage block of t, or 0 for
// an unknown type.
func (t GGMLType) TypeSize() int { return int(ggmlTypes[t].typeSize) }

// CanDequantize reports whether [Dequantize] supports t.
func (t GGMLType) CanDequantize() bool {
	_, ok := dequantizers[t]
	return ok
}

// RowBytes returns the number of bytes taken by n consecutive elements of
// type t along ne[0]. It fails when t is unknown or n is not a multiple of
// the block size.
func (t GGMLType) RowBytes(n int) (int, error) {
	tr, ok := ggmlTypes[t]
	if !ok {
		return 0, fmt.Errorf("gguf: unknown ggml type id %d", uint32(t))
	}
	if n < 0 || uint64(n)%tr.blockSize != 0 {
		return 0, fmt.Errorf("gguf: %d elements is not a multiple of the %s block size %d", n, tr.name, tr.blockSize)
	}
	return int(uint64(n) / tr.blockSize * tr.typeSize), nil
}
