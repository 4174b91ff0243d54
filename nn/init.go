package nn

import (
	"math"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// The initialisers below draw their values from a seeded Go RNG, so runs are repeatable from a seed (gotch has no
// binding for torch.manual_seed) and checkpoints can record the RNG state. They create fp32 tensors.

// Uniform returns a tensor of the given shape with values drawn from U(lo, hi).
func Uniform(rng *rand.Rand, shape []int64, lo, hi float64, dev gotch.Device) *ts.Tensor {
	v := make([]float32, Numel(shape))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return fromFloat32(v, shape, dev)
}

// Normal returns a tensor of the given shape with values drawn from N(mean, std²).
func Normal(rng *rand.Rand, shape []int64, mean, std float64, dev gotch.Device) *ts.Tensor {
	v := make([]float32, Numel(shape))
	for i := range v {
		v[i] = float32(mean + std*rng.NormFloat64())
	}
	return fromFloat32(v, shape, dev)
}

// KaimingUniform returns a [out, in] weight initialised as PyTorch's kaiming_uniform_(w, a=√5), the default
// init of nn.Linear and of PEFT's lora_A: U(-b, b) with b = 1/√fan_in and fan_in = shape[1].
// (gotch's own KaimingUniform draws from N(0, 1) instead.)
func KaimingUniform(rng *rand.Rand, shape []int64, dev gotch.Device) *ts.Tensor {
	bound := 1 / math.Sqrt(float64(shape[1]))
	return Uniform(rng, shape, -bound, bound, dev)
}

// Zeros returns an fp32 tensor of zeros.
func Zeros(shape []int64, dev gotch.Device) *ts.Tensor {
	return ts.MustZeros(shape, gotch.Float, dev)
}

func fromFloat32(v []float32, shape []int64, dev gotch.Device) *ts.Tensor {
	t := ts.MustOfSlice(v).MustView(shape, true)
	if dev != gotch.CPU {
		t = t.MustTo(dev, true)
	}
	return t
}

// Numel returns the number of elements of a tensor of the given shape.
func Numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}
