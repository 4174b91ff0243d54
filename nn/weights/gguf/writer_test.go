package gguf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFloat32ToHalf(t *testing.T) {
	// every finite half survives the trip through float32
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN
		}
		require.Equal(t, uint16(h), Float32ToHalf(HalfToFloat32(uint16(h))), "half %#04x", h)
	}
	cases := []struct {
		name string
		in   float32
		want uint16
	}{
		{"1 + half an ulp rounds to even (down)", 1 + 1.0/2048, 0x3c00},
		{"1 + 3 half ulps rounds to even (up)", 1 + 3.0/2048, 0x3c02},
		{"just above half an ulp rounds up", math.Nextafter32(1+1.0/2048, 2), 0x3c01},
		{"max half", 65504, 0x7bff},
		{"overflow to inf", 65520, 0x7c00},
		{"negative overflow", -1e10, 0xfc00},
		{"smallest subnormal", 0x1p-24, 0x0001},
		{"half the smallest subnormal rounds to even zero", 0x1p-25, 0x0000},
		{"above half the smallest subnormal", math.Nextafter32(0x1p-25, 1), 0x0001},
		{"subnormal to normal carry", 0x1p-14 - 0x1p-26, 0x0400},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"inf", float32(math.Inf(1)), 0x7c00},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Float32ToHalf(c.in), c.name)
	}
	require.True(t, math.IsNaN(float64(HalfToFloat32(Float32ToHalf(float32(math.NaN()))))))
}

func TestQuantizeQ8_0(t *testing.T) {
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i) - 20
	}
	x[40] = 0 // the second block's max is 43
	q, err := QuantizeQ8_0(x)
	require.NoError(t, err)
	require.Len(t, q, 68)
	d := HalfToFloat32(Float32ToHalf(20.0 / 127))
	require.Equal(t, d, f16At(q[0:]))
	require.Equal(t, int8(-127), int8(q[2]))
	y := make([]float32, 64)
	require.NoError(t, Dequantize(TypeQ8_0, q, y))
	for i := range x {
		require.InDelta(t, x[i], y[i], 43.0/127/2*1.01, "value %d", i)
	}
	zero, err := QuantizeQ8_0(make([]float32, 32))
	require.NoError(t, err)
	require.Equal(t, make([]byte, 34), zero)
	_, err = QuantizeQ8_0(make([]float32, 33))
	require.ErrorContains(t, err, "multiple of 32")
}

func TestWriterRoundTrip(t *testing.T) {
	w := NewWriter()
	kvs := []KV{
		{"general.architecture", Scalar("llama")},
		{"a.u8", Scalar(uint8(7))}, {"a.i8", Scalar(int8(-7))}, {"a.u16", Scalar(uint16(700))},
		{"a.i16", Scalar(int16(-700))}, {"a.u32", Scalar(uint32(70000))}, {"a.i32", Scalar(int32(-70000))},
		{"a.f32", Scalar(float32(1.5))}, {"a.bool", Scalar(true)}, {"a.u64", Scalar(uint64(1 << 40))},
		{"a.i64", Scalar(int64(-1 << 40))}, {"a.f64", Scalar(0.25)},
		{"a.strs", Value{Type: ValueArray, ElemType: ValueString, Data: []string{"x", "", "yz"}}},
		{"a.i32s", Value{Type: ValueArray, ElemType: ValueInt32, Data: []int32{1, -2, 3}}},
		{"a.f32s", Value{Type: ValueArray, ElemType: ValueFloat32, Data: []float32{0.5, -1}}},
	}
	for _, kv := range kvs {
		require.NoError(t, w.Add(kv.Key, kv.Value))
	}
	require.ErrorContains(t, w.Add("a.u8", Scalar(uint8(1))), `"a.u8"`)
	require.ErrorContains(t, w.Add("bad", Value{Type: ValueUint32, Data: 3}), "does not match")
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, 3*64)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64())
	}
	q8, err := QuantizeQ8_0(vals)
	require.NoError(t, err)
	require.NoError(t, w.AddTensor("t.f32", TypeF32, []int{3, 64}, EncodeF32(vals)))
	require.NoError(t, w.AddTensor("t.f16", TypeF16, []int{3, 64}, EncodeF16(vals)))
	require.NoError(t, w.AddTensor("t.q8", TypeQ8_0, []int{3, 64}, q8))
	require.NoError(t, w.AddTensor("t.odd", TypeF32, []int{5}, EncodeF32(vals[:5])))
	require.ErrorContains(t, w.AddTensor("t.short", TypeF32, []int{3, 64}, q8), "bytes of data")
	require.ErrorContains(t, w.AddTensor("t.f32", TypeF32, []int{1}, EncodeF32(vals[:1])), "already used")

	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	require.NoError(t, err)
	require.EqualValues(t, buf.Len(), n)
	require.Zero(t, buf.Len()%DefaultAlignment)
	f, err := NewFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem.gguf")
	require.NoError(t, err)
	require.Len(t, f.KVs, len(kvs))
	for i, kv := range kvs {
		require.Equal(t, kv.Key, f.KVs[i].Key)
		require.Equal(t, kv.Value, f.KVs[i].Value, kv.Key)
	}
	got, err := f.Float32("t.f32")
	require.NoError(t, err)
	require.Equal(t, vals, got)
	ti, err := f.Tensor("t.f16")
	require.NoError(t, err)
	require.Equal(t, []int{3, 64}, ti.Shape())
	got, err = f.Float32("t.f16")
	require.NoError(t, err)
	for i := range vals {
		require.Equal(t, HalfToFloat32(Float32ToHalf(vals[i])), got[i])
	}
	raw, err := f.ReadRaw("t.q8")
	require.NoError(t, err)
	require.Equal(t, q8, raw)
	got, err = f.Float32("t.odd")
	require.NoError(t, err)
	require.Equal(t, vals[:5], got)
}
