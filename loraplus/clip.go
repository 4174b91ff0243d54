package loraplus

import (
	"github.com/sugarme/gotch/ts"
)

// ClipGradNorm scales the gradients of params so that their joint L2 norm is at most maxNorm, as
// torch.nn.utils.clip_grad_norm_ does, and returns the norm before clipping. Only the given tensors are
// considered (pass the trainable ones; frozen weights have no gradient to clip). Tensors without a gradient are
// skipped.
func ClipGradNorm(params []*ts.Tensor, maxNorm float64) float64 {
	return gradNorm(params, maxNorm, true)
}

// GradNorm returns the joint L2 norm of the gradients of params, as ClipGradNorm computes it, without changing
// them. Tensors without a gradient are skipped; with none it returns 0.
func GradNorm(params []*ts.Tensor) float64 {
	return gradNorm(params, 0, false)
}

func gradNorm(params []*ts.Tensor, maxNorm float64, clip bool) float64 {
	var grads, norms []*ts.Tensor
	for _, p := range params {
		g := p.MustGrad(false)
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
		norms = append(norms, g.MustNorm(false))
	}
	if len(grads) == 0 {
		return 0
	}
	stacked := ts.MustStack(norms, 0)
	total := stacked.MustNorm(true)
	for _, n := range norms {
		n.MustDrop()
	}
	if clip {
		coef := total.MustAddScalar(ts.FloatScalar(1e-6), false).MustReciprocal(true).MustMulScalar(ts.FloatScalar(maxNorm), true).MustClampMax(ts.FloatScalar(1), true)
		for _, g := range grads {
			g.MustMul_(coef)
		}
		coef.MustDrop()
	}
	for _, g := range grads {
		g.MustDrop()
	}
	return total.Float64Values(true)[0]
}
