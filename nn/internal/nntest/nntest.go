// Package nntest holds the helpers the tests of nn and its subpackages share: tensors from values and raw
// bytes, tolerant comparisons, and the Hugging Face parity checks of the model packages.
package nntest

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// F32 builds an fp32 CPU tensor of the given shape from row-major values.
func F32(shape []int64, v []float32) *ts.Tensor {
	return ts.MustOfSlice(v).MustReshape(shape, true)
}

// RandF32 draws n values from N(0, 1).
func RandF32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// Values returns a tensor's elements in row-major order as float64.
func Values(t *ts.Tensor) []float64 {
	if t.Numel() == 0 { // gotch's CopyData cannot tell the type of an empty slice
		return []float64{}
	}
	c := t.MustDetach(false)
	defer c.MustDrop()
	return c.Float64Values()
}

// RawBytes returns a CPU tensor's elements as little-endian bytes, read through an integer view of the same width
// (so that it does not depend on the safetensors code under test).
func RawBytes(t *testing.T, x *ts.Tensor) []byte {
	t.Helper()
	var view gotch.DType
	var size int
	switch x.DType() {
	case gotch.Float, gotch.Int:
		view, size = gotch.Int, 4
	case gotch.Double, gotch.Int64:
		view, size = gotch.Int64, 8
	case gotch.Half, gotch.BFloat16, gotch.Int16:
		view, size = gotch.Int16, 2
	default:
		t.Fatalf("RawBytes: unsupported dtype %v", x.DType())
	}
	if x.Numel() == 0 {
		return []byte{}
	}
	flat := x.MustDetach(false).MustContiguous(true).MustReshape([]int64{-1}, true)
	if view != x.DType() {
		flat = flat.MustViewDtype(view, true)
	}
	defer flat.MustDrop()
	ints := flat.Int64Values()
	out := make([]byte, 0, size*len(ints))
	for _, v := range ints {
		switch size {
		case 2:
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		case 4:
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		case 8:
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// OfBytes builds a CPU tensor from little-endian raw data.
func OfBytes(t *testing.T, data []byte, shape []int64, dt gotch.DType) *ts.Tensor {
	t.Helper()
	s := shape
	if len(shape) == 0 {
		s = []int64{1}
	}
	x, err := ts.OfDataSize(data, s, dt)
	require.NoError(t, err)
	if len(shape) == 0 { // gotch's View and Reshape cannot take an empty shape
		x = x.MustSqueezeDim(0, true)
	}
	return x
}

// LE16 encodes 16-bit patterns (fp16 or bf16 bits) as little-endian bytes.
func LE16(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

// LE32F encodes float32 values as little-endian bytes.
func LE32F(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// LE64F encodes float64 values as little-endian bytes.
func LE64F(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// LE32I encodes int32 values as little-endian bytes.
func LE32I(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// LE64I encodes int64 values as little-endian bytes.
func LE64I(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

// RequireClose fails unless got and want have the same length and agree within tol (absolute plus relative).
func RequireClose(t *testing.T, want, got []float64, tol float64, msgAndArgs ...any) {
	t.Helper()
	require.Len(t, got, len(want), msgAndArgs...)
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			require.InDeltaf(t, want[i], got[i], tol*(1+math.Abs(want[i])), "element %d %v", i, msgAndArgs)
		}
	}
}

// LinearRef computes y[b][o] = Σ_i x[b][i]·W[o][i] + bias[o] in float64; w is [out, in], or [in, out] when
// transposed; bias may be nil.
func LinearRef(x, w, bias []float64, in, out int, transposed bool) []float64 {
	rows := len(x) / in
	y := make([]float64, rows*out)
	for b := 0; b < rows; b++ {
		for o := 0; o < out; o++ {
			s := 0.0
			for i := 0; i < in; i++ {
				if transposed {
					s += x[b*in+i] * w[i*out+o]
				} else {
					s += x[b*in+i] * w[o*in+i]
				}
			}
			if bias != nil {
				s += bias[o]
			}
			y[b*out+o] = s
		}
	}
	return y
}

// SameBits reports whether two float64 slices are equal bit for bit.
func SameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// NewRNG returns a seeded RNG.
func NewRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed+1)) }
