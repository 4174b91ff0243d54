package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
)

// outIn returns the stored weight values w as [out, in].
func outIn(w []float64, c linearCase) []float64 {
	if !c.transposed {
		return w
	}
	t := make([]float64, len(w))
	for i := 0; i < c.in; i++ {
		for o := 0; o < c.out; o++ {
			t[o*c.in+i] = w[i*c.out+o]
		}
	}
	return t
}

// doraRef computes, in float64, y = m/‖W + s·B·A‖ ⊙ (x·(W + s·B·A)ᵀ) + b for rows of x [rows, in], with W [out, in],
// A [r, in], B [out, r], m [out]; it also returns the row norms.
func doraRef(x, w, b, a, bb, m []float64, in, out, r int, s float64) (y, norm []float64) {
	v := make([]float64, out*in)
	norm = make([]float64, out)
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			d := 0.0
			for k := 0; k < r; k++ {
				d += bb[o*r+k] * a[k*in+i]
			}
			v[o*in+i] = w[o*in+i] + s*d
			norm[o] += v[o*in+i] * v[o*in+i]
		}
		norm[o] = math.Sqrt(norm[o])
	}
	rows := len(x) / in
	y = make([]float64, rows*out)
	for n := 0; n < rows; n++ {
		for o := 0; o < out; o++ {
			acc := 0.0
			for i := 0; i < in; i++ {
				acc += x[n*in+i] * v[o*in+i]
			}
			y[n*out+o] = m[o] / norm[o] * acc
			if b != nil {
				y[n*out+o] += b[o]
			}
		}
	}
	return y, norm
}

// A DoRA Linear or Conv1D, with or without bias, fp32 or with a bf16 base: the magnitude starts at the row norms
// of W, the forward pass (evaluation and training without dropout) and the merged weight follow the DoRA formula,
// Unmerge restores the weight, and gradients reach A, B and the magnitude but not the frozen weight.
func TestLinearDoRA(t *testing.T) {
	for _, dt := range []gotch.DType{gotch.Float, gotch.BFloat16} {
		tol := 1e-5
		if dt == gotch.BFloat16 {
			tol = 0.03
		}
		for _, c := range linearCases {
			t.Run(dt.String()+" "+c.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(21, 22))
				l, w, b := newTestLinear(rng, c)
				if dt != gotch.Float {
					l.Weight = l.Weight.MustTotype(dt, true)
					w = nntest.Values(l.Weight)
					if l.Bias != nil {
						l.Bias = l.Bias.MustTotype(dt, true)
						b = nntest.Values(l.Bias)
					}
				}
				wo := outIn(w, c)
				const r, alpha = 2, 3.0
				require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: r, Alpha: alpha, DoRA: true}, rng))
				require.NotNil(t, l.LoRA.Magnitude)
				assert.Equal(t, gotch.Float, l.LoRA.Magnitude.DType())
				assert.Equal(t, []int64{int64(c.out)}, l.LoRA.Magnitude.MustSize())
				assert.Contains(t, l.String(), "DoRA r=2")
				zero := make([]float64, c.out*r)
				_, norm := doraRef(nil, wo, nil, make([]float64, r*c.in), zero, make([]float64, c.out), c.in, c.out, r, 0)
				nntest.RequireClose(t, norm, nntest.Values(l.LoRA.Magnitude), 1e-5, "initial magnitude")

				setRandomAdapter(rng, l.LoRA)
				m := nntest.RandF32(rng, c.out)
				for i := range m {
					m[i] += 2
				}
				l.LoRA.Magnitude = nntest.F32([]int64{int64(c.out)}, m).MustSetRequiresGrad(true, true)
				x := nntest.F32([]int64{3, int64(c.in)}, nntest.RandF32(rng, 3*c.in)).MustTotype(dt, true)
				want, _ := doraRef(nntest.Values(x), wo, b, nntest.Values(l.LoRA.A), nntest.Values(l.LoRA.B),
					nntest.Values(l.LoRA.Magnitude), c.in, c.out, r, alpha/r)
				for _, train := range []bool{false, true} {
					y := l.ForwardT(x, train)
					assert.Equal(t, dt, y.DType())
					nntest.RequireClose(t, want, nntest.Values(y), tol, "forward, train=%v", train)
				}

				loss := l.ForwardT(x, true).MustSum(gotch.Float, true)
				loss.MustBackward()
				for name, p := range map[string]*ts.Tensor{"A": l.LoRA.A, "B": l.LoRA.B, "magnitude": l.LoRA.Magnitude} {
					g := p.MustGrad(false)
					assert.Greater(t, nntest.MaxAbs(nntest.Values(g)), 0.0, "gradient of %s", name)
				}
				assert.False(t, l.Weight.MustRequiresGrad(), "the frozen weight gets no gradient")

				nn.NoGrad(func() {
					require.NoError(t, l.Merge())
					assert.Equal(t, dt, l.Weight.DType())
					nntest.RequireClose(t, want, nntest.Values(l.ForwardT(x, false)), tol, "merged forward")
					require.NoError(t, l.Unmerge())
					nntest.RequireClose(t, w, nntest.Values(l.Weight), tol, "weight after Unmerge")
					nntest.RequireClose(t, want, nntest.Values(l.ForwardT(x, false)), tol, "forward after Unmerge")
				})
			})
		}
	}
}

func TestEmbeddingRefusesDoRA(t *testing.T) {
	e := nn.NewEmbedding(nntest.F32([]int64{4, 3}, make([]float32, 12)))
	err := e.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2, DoRA: true}, rand.New(rand.NewPCG(1, 2)))
	require.ErrorContains(t, err, "DoRA is supported on Linear layers only")
	assert.Nil(t, e.LoRA)
}
