package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// linearCase is a Linear layer's layout.
type linearCase struct {
	name       string
	in, out    int
	bias       bool
	transposed bool
}

var linearCases = []linearCase{
	{"linear with bias", 5, 3, true, false},
	{"linear without bias", 4, 6, false, false},
	{"conv1d with bias", 5, 3, true, true},
	{"conv1d without bias", 3, 7, false, true},
}

// newTestLinear builds a random fp32 layer; it returns the layer, its weight as stored ([out, in], or [in, out]
// when transposed) and its bias (nil without).
func newTestLinear(rng *rand.Rand, c linearCase) (*nn.Linear, []float64, []float64) {
	wShape := []int64{int64(c.out), int64(c.in)}
	if c.transposed {
		wShape = []int64{int64(c.in), int64(c.out)}
	}
	w := nntest.RandF32(rng, c.in*c.out)
	var bt *ts.Tensor
	var b []float64
	if c.bias {
		bv := nntest.RandF32(rng, c.out)
		bt = nntest.F32([]int64{int64(c.out)}, bv)
		b = nntest.Values(bt)
	}
	wt := nntest.F32(wShape, w)
	if c.transposed {
		return nn.NewConv1D(wt, bt), nntest.Values(wt), b
	}
	return nn.NewLinear(wt, bt), nntest.Values(wt), b
}

// setRandomAdapter replaces both factors of l's adapter with random values, so that the update is non-zero.
func setRandomAdapter(rng *rand.Rand, l *nn.LoRA) {
	a, b := l.A.MustSize(), l.B.MustSize()
	l.A = nntest.F32(a, nntest.RandF32(rng, int(a[0]*a[1]))).MustSetRequiresGrad(true, true)
	l.B = nntest.F32(b, nntest.RandF32(rng, int(b[0]*b[1]))).MustSetRequiresGrad(true, true)
}

// loraRef computes s·B·A·x for rows of x [rows, in], A [r, in], B [out, r].
func loraRef(x, a, b []float64, in, out, r int, s float64) []float64 {
	rows := len(x) / in
	y := make([]float64, rows*out)
	for n := 0; n < rows; n++ {
		xa := make([]float64, r)
		for k := 0; k < r; k++ {
			for i := 0; i < in; i++ {
				xa[k] += a[k*in+i] * x[n*in+i]
			}
		}
		for o := 0; o < out; o++ {
			for k := 0; k < r; k++ {
				y[n*out+o] += s * b[o*r+k] * xa[k]
			}
		}
	}
	return y
}

func TestLinearForward(t *testing.T) {
	for _, c := range linearCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			l, w, b := newTestLinear(rng, c)
			in, out := l.Dims()
			assert.Equal(t, []int64{int64(c.in), int64(c.out)}, []int64{in, out})
			xv := nntest.RandF32(rng, 2*3*c.in)
			x := nntest.F32([]int64{2, 3, int64(c.in)}, xv)
			y := l.ForwardT(x, false)
			assert.Equal(t, []int64{2, 3, int64(c.out)}, y.MustSize())
			nntest.RequireClose(t, nntest.LinearRef(nntest.Values(x), w, b, c.in, c.out, c.transposed), nntest.Values(y), 1e-5)

			names := []string{}
			for _, p := range l.Params() {
				names = append(names, p.Name)
			}
			if c.bias {
				assert.Equal(t, []string{"weight", "bias"}, names)
			} else {
				assert.Equal(t, []string{"weight"}, names)
			}
			assert.Nil(t, l.Adapter())
		})
	}
}

func TestLinearLoRAForward(t *testing.T) {
	for _, c := range linearCases {
		for _, cfg := range []nn.LoRAConfig{
			{Rank: 2, Alpha: 4},
			{Rank: 3, Alpha: 5, RSLoRA: true, Init: nn.InitAZero},
		} {
			t.Run(c.name+" "+cfg.Init.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(3, 4))
				l, w, b := newTestLinear(rng, c)
				require.NoError(t, l.AddLoRA(cfg, rng))
				require.Same(t, l.LoRA, l.Adapter())
				assert.Equal(t, int64(cfg.Rank), l.LoRA.Rank())
				assert.Equal(t, cfg.Scale(), l.LoRA.Scale)
				assert.Equal(t, []int64{int64(cfg.Rank), int64(c.in)}, l.LoRA.A.MustSize())
				assert.Equal(t, []int64{int64(c.out), int64(cfg.Rank)}, l.LoRA.B.MustSize())
				setRandomAdapter(rng, l.LoRA)

				x := nntest.F32([]int64{4, int64(c.in)}, nntest.RandF32(rng, 4*c.in))
				want := nntest.LinearRef(nntest.Values(x), w, b, c.in, c.out, c.transposed)
				upd := loraRef(nntest.Values(x), nntest.Values(l.LoRA.A), nntest.Values(l.LoRA.B), c.in, c.out, cfg.Rank, cfg.Scale())
				for i := range want {
					want[i] += upd[i]
				}
				nntest.RequireClose(t, want, nntest.Values(l.ForwardT(x, false)), 1e-5)
				nntest.RequireClose(t, want, nntest.Values(l.ForwardT(x, true)), 1e-5, "dropout 0 in training")
				assert.Contains(t, l.String(), "LoRA r=")
			})
		}
	}
}

// With either init one factor is zero, so the adapted layer starts exactly equal to the base layer.
func TestLinearLoRAStartsAtBase(t *testing.T) {
	for _, c := range linearCases {
		for _, init := range []nn.LoRAInit{nn.InitBZero, nn.InitAZero} {
			t.Run(c.name+" "+init.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(5, 6))
				l, _, _ := newTestLinear(rng, c)
				x := nntest.F32([]int64{3, int64(c.in)}, nntest.RandF32(rng, 3*c.in))
				base := nntest.Values(l.ForwardT(x, false))
				require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 4, Alpha: 8, Init: init}, rng))
				assert.Equal(t, base, nntest.Values(l.ForwardT(x, false)))

				a, b := nntest.Values(l.LoRA.A), nntest.Values(l.LoRA.B)
				zero, rnd := b, a
				if init == nn.InitAZero {
					zero, rnd = a, b
				}
				assert.Equal(t, make([]float64, len(zero)), zero, "the zero factor")
				assert.NotContains(t, rnd, 0.0, "the random factor")
			})
		}
	}
}

// A (B-zero init) and B (A-zero init) are drawn from Kaiming-uniform with a=√5: U(-1/√fan_in, 1/√fan_in).
func TestLinearLoRAInitDistribution(t *testing.T) {
	for _, tc := range []struct {
		init         nn.LoRAInit
		in, out, r   int
		fanIn, count int
	}{
		{nn.InitBZero, 256, 8, 16, 256, 16 * 256},
		{nn.InitAZero, 8, 512, 16, 16, 512 * 16},
	} {
		t.Run(tc.init.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			l, _, _ := newTestLinear(rng, linearCase{"", tc.in, tc.out, false, false})
			require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: tc.r, Alpha: 1, Init: tc.init}, rng))
			for _, f := range []*ts.Tensor{l.LoRA.A, l.LoRA.B} {
				assert.Equal(t, gotch.Float, f.DType())
				assert.True(t, f.MustRequiresGrad())
				assert.True(t, f.MustIsLeaf(false))
			}
			v := nntest.Values(l.LoRA.A)
			if tc.init == nn.InitAZero {
				v = nntest.Values(l.LoRA.B)
			}
			require.Len(t, v, tc.count)
			bound := 1 / math.Sqrt(float64(tc.fanIn))
			maxAbs, sum, sumAbs := 0.0, 0.0, 0.0
			for _, x := range v {
				require.LessOrEqual(t, math.Abs(x), bound)
				maxAbs = math.Max(maxAbs, math.Abs(x))
				sum += x
				sumAbs += math.Abs(x)
			}
			n := float64(len(v))
			assert.Greater(t, maxAbs, 0.99*bound, "values fill the range")
			assert.InDelta(t, 0, sum/n, 0.05*bound, "mean")
			assert.InDelta(t, bound/2, sumAbs/n, 0.05*bound, "mean |x| of U(-b, b) is b/2")
		})
	}
}

func TestLinearLoRASeeded(t *testing.T) {
	c := linearCase{"", 6, 4, true, false}
	draw := func(seed uint64) []float64 {
		rng := rand.New(rand.NewPCG(seed, 0))
		l, _, _ := newTestLinear(rng, c)
		require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2}, rng))
		return nntest.Values(l.LoRA.A)
	}
	assert.Equal(t, draw(11), draw(11))
	assert.NotEqual(t, draw(11), draw(12))
}

func TestLinearMergeUnmerge(t *testing.T) {
	for _, c := range linearCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			l, w0, _ := newTestLinear(rng, c)
			require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 3, Alpha: 6, Dropout: 0.3}, rng))
			setRandomAdapter(rng, l.LoRA)
			x := nntest.F32([]int64{2, 5, int64(c.in)}, nntest.RandF32(rng, 10*c.in))
			unmerged := nntest.Values(l.ForwardT(x, false))

			assert.False(t, l.Merged())
			require.NoError(t, l.Merge())
			assert.True(t, l.Merged())
			nntest.RequireClose(t, unmerged, nntest.Values(l.ForwardT(x, false)), 1e-5, "merged forward")
			assert.False(t, l.Weight.MustRequiresGrad(), "the merged weight stays frozen")
			assert.ErrorContains(t, l.Merge(), "already merged")

			require.NoError(t, l.Unmerge())
			assert.False(t, l.Merged())
			nntest.RequireClose(t, w0, nntest.Values(l.Weight), 1e-6, "weight restored")
			nntest.RequireClose(t, unmerged, nntest.Values(l.ForwardT(x, false)), 1e-5, "unmerged forward")
			assert.ErrorContains(t, l.Unmerge(), "not merged")
		})
	}
}

func TestLinearErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	l, w0, _ := newTestLinear(rng, linearCases[0])
	assert.ErrorContains(t, l.Merge(), "no LoRA adapter")
	assert.ErrorContains(t, l.Unmerge(), "not merged")
	assert.Error(t, l.AddLoRA(nn.LoRAConfig{Rank: 0, Alpha: 1}, rng), "invalid config")
	assert.Nil(t, l.LoRA, "no adapter after a failed AddLoRA")
	require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 1}, rng))
	first := l.LoRA
	assert.ErrorContains(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 1}, rng), "already has a LoRA adapter")
	assert.Same(t, first, l.LoRA)
	assert.Equal(t, w0, nntest.Values(l.Weight), "failed calls leave the weight alone")
}

// Dropout acts on the adapter's input, only when training: with p = 0.5 each input element is zeroed or doubled.
func TestLinearLoRADropout(t *testing.T) {
	const n = 20000
	// y = 3·x + s·B·A·dropout(x) with x = 1, A = B = 1, s = 1: 4 without dropout, 3 or 5 with.
	l := nn.NewLinear(nntest.F32([]int64{1, 1}, []float32{3}), nil)
	require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 1, Alpha: 1, Dropout: 0.5}, rand.New(rand.NewPCG(1, 2))))
	l.LoRA.A = nntest.F32([]int64{1, 1}, []float32{1})
	l.LoRA.B = nntest.F32([]int64{1, 1}, []float32{1})
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	x := nntest.F32([]int64{n, 1}, ones)

	for _, v := range nntest.Values(l.ForwardT(x, false)) {
		require.Equal(t, 4.0, v, "no dropout in eval mode")
	}
	counts := map[float64]int{}
	for _, v := range nntest.Values(l.ForwardT(x, true)) {
		counts[v]++
	}
	require.Len(t, counts, 2, "values %v", counts)
	assert.InDelta(t, 0.5, float64(counts[3])/n, 0.02, "dropped fraction")
	assert.InDelta(t, 0.5, float64(counts[5])/n, 0.02, "kept fraction, scaled by 1/(1-p)")

	require.NoError(t, l.Merge())
	for _, v := range nntest.Values(l.ForwardT(x, true)) {
		require.Equal(t, 4.0, v, "a merged adapter has no dropout")
	}
}

// A bf16 base layer keeps its dtype: the fp32 adapter's update is cast back to bf16.
func TestLinearBF16BaseFP32Adapter(t *testing.T) {
	for _, c := range linearCases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, 13))
			l, w, b := newTestLinear(rng, c)
			l.Weight = l.Weight.MustTotype(gotch.BFloat16, true)
			if l.Bias != nil {
				l.Bias = l.Bias.MustTotype(gotch.BFloat16, true)
			}
			require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2}, rng))
			assert.Equal(t, gotch.Float, l.LoRA.A.DType())
			assert.Equal(t, gotch.Float, l.LoRA.B.DType())
			setRandomAdapter(rng, l.LoRA)

			x := nntest.F32([]int64{3, int64(c.in)}, nntest.RandF32(rng, 3*c.in)).MustTotype(gotch.BFloat16, true)
			want := nntest.LinearRef(nntest.Values(x), w, b, c.in, c.out, c.transposed)
			upd := loraRef(nntest.Values(x), nntest.Values(l.LoRA.A), nntest.Values(l.LoRA.B), c.in, c.out, 2, 1)
			for i := range want {
				want[i] += upd[i]
			}
			for _, train := range []bool{false, true} {
				y := l.ForwardT(x, train)
				assert.Equal(t, gotch.BFloat16, y.DType())
				nntest.RequireClose(t, want, nntest.Values(y), 0.03)
			}
			require.NoError(t, l.Merge())
			assert.Equal(t, gotch.BFloat16, l.Weight.DType())
			y := l.ForwardT(x, false)
			assert.Equal(t, gotch.BFloat16, y.DType())
			nntest.RequireClose(t, want, nntest.Values(y), 0.03)
		})
	}
}

// Gradients reach both factors of the adapter and nothing reaches the frozen weight.
func TestLinearLoRAGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	c := linearCase{"", 4, 3, true, false}
	l, _, _ := newTestLinear(rng, c)
	require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2}, rng))
	setRandomAdapter(rng, l.LoRA)
	x := nntest.F32([]int64{5, 4}, nntest.RandF32(rng, 20))
	loss := l.ForwardT(x, false).MustSum(gotch.Float, true)
	loss.MustBackward()
	ga, gb := l.LoRA.A.MustGrad(false), l.LoRA.B.MustGrad(false)
	assert.Equal(t, []int64{2, 4}, ga.MustSize())
	assert.Equal(t, []int64{3, 2}, gb.MustSize())
	assert.NotEqual(t, make([]float64, 8), nntest.Values(ga))
	assert.NotEqual(t, make([]float64, 6), nntest.Values(gb))
	assert.False(t, l.Weight.MustRequiresGrad())
	assert.False(t, l.Weight.MustGrad(false).MustDefined())
}
