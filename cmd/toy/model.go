package main

import (
	"math"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// mlp is the toy model of the paper's Section 3.2: f(x) = W_out·ReLU((W + s·B·A)·ReLU(W_in·x)), with
// W_in [n, d], W [n, n], W_out [1, n] frozen and only the adapter of the middle layer trained.
type mlp struct {
	In  *nn.Linear `name:"w_in"`
	Mid *nn.Linear `name:"w"`
	Out *nn.Linear `name:"w_out"`
}

// frozen holds the random "pretrained" weights that every grid cell starts from.
type frozen struct{ in, mid, out *ts.Tensor }

// newFrozen draws W_in ~ N(0, 1/d), W ~ N(0, 1/n) and W_out ~ N(0, 1/n).
func newFrozen(rng *rand.Rand, d, n int64) frozen {
	return frozen{
		in:  nn.Normal(rng, []int64{n, d}, 0, 1/math.Sqrt(float64(d)), gotch.CPU),
		mid: nn.Normal(rng, []int64{n, n}, 0, 1/math.Sqrt(float64(n)), gotch.CPU),
		out: nn.Normal(rng, []int64{1, n}, 0, 1/math.Sqrt(float64(n)), gotch.CPU),
	}
}

// model builds a fresh model on the shared frozen weights (they are never written).
func (f frozen) model() *mlp {
	return &mlp{In: nn.NewLinear(f.in, nil), Mid: nn.NewLinear(f.mid, nil), Out: nn.NewLinear(f.out, nil)}
}

// forward maps x [N, d] to [N, 1].
func (m *mlp) forward(x *ts.Tensor) *ts.Tensor {
	h := m.In.ForwardT(x, false).MustRelu(true)
	z := m.Mid.ForwardT(h, true).MustRelu(true)
	h.MustDrop()
	y := m.Out.ForwardT(z, false)
	z.MustDrop()
	return y
}

// dataset is X ~ N(0, I_d) and y = sin(mean(x)), the paper's synthetic regression target.
type dataset struct{ x, y *ts.Tensor }

func newDataset(rng *rand.Rand, size, d int64) dataset {
	xs := make([]float32, size*d)
	ys := make([]float32, size)
	for i := int64(0); i < size; i++ {
		s := 0.0
		for j := int64(0); j < d; j++ {
			v := rng.NormFloat64()
			xs[i*d+j] = float32(v)
			s += v
		}
		ys[i] = float32(math.Sin(s / float64(d)))
	}
	return dataset{
		x: ts.MustOfSlice(xs).MustView([]int64{size, d}, true),
		y: ts.MustOfSlice(ys).MustView([]int64{size, 1}, true),
	}
}

// loss returns the mean squared error of the model on the data, without autograd.
func (m *mlp) loss(data dataset) float64 {
	var l float64
	nn.NoGrad(func() {
		y := m.forward(data.x)
		l = y.MustMseLoss(data.y, ts.ReductionMean, true).Float64Values(true)[0]
	})
	return l
}
