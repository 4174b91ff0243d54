package loraplus

import (
	"fmt"
	"math"
	"strconv"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// AdamW is PyTorch's torch.optim.AdamW (decoupled weight decay, amsgrad off) with one learning rate and weight
// decay per group. It is written on gotch tensor ops because gotch's own optimizer cannot set eps or a
// per-group weight decay, and cannot save its state.
type AdamW struct {
	groups []Group
	beta1  float64
	beta2  float64
	eps    float64
	state  []adamState // one per param, in group order
	steps  int         // optimizer steps taken
	factor float64     // the schedule factor of the last Step
}

type adamState struct {
	p      *Param
	data   *ts.Tensor // detached alias of the parameter: updates bypass autograd
	expAvg *ts.Tensor // first moment, like the parameter
	expSq  *ts.Tensor // second moment
	step   int        // steps this tensor took (it has none while it never had a gradient)
	group  int
}

// NewAdamW builds the LoRA+ AdamW over the model's trainable tensors.
func (m *Model) NewAdamW(c OptimConfig) (*AdamW, error) {
	groups, err := BuildGroups(m.Params, c)
	if err != nil {
		return nil, err
	}
	return NewAdamW(groups, c.Beta1, c.Beta2, c.Eps)
}

// NewAdamW builds an AdamW over explicit groups.
func NewAdamW(groups []Group, beta1, beta2, eps float64) (*AdamW, error) {
	if !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) {
		return nil, fmt.Errorf("invalid AdamW settings betas=(%v, %v) eps=%v", beta1, beta2, eps)
	}
	o := &AdamW{groups: groups, beta1: beta1, beta2: beta2, eps: eps}
	for gi, g := range groups {
		for _, p := range g.Params {
			o.state = append(o.state, adamState{
				p:      p,
				data:   p.Tensor.MustDetach(false),
				expAvg: p.Tensor.MustZerosLike(false),
				expSq:  p.Tensor.MustZerosLike(false),
				group:  gi,
			})
		}
	}
	return o, nil
}

// Groups returns the parameter groups.
func (o *AdamW) Groups() []Group { return o.groups }

// Steps returns the number of Step calls so far.
func (o *AdamW) Steps() int { return o.steps }

// LRs returns each group's learning rate for a schedule factor.
func (o *AdamW) LRs(factor float64) []float64 {
	lrs := make([]float64, len(o.groups))
	for i, g := range o.groups {
		lrs[i] = g.LR * factor
	}
	return lrs
}

// AppliedLRs returns each group's learning rate as the last Step applied it (nil before the first Step).
func (o *AdamW) AppliedLRs() []float64 {
	if o.steps == 0 {
		return nil
	}
	return o.LRs(o.factor)
}

// Step applies one update; factor scales every group's learning rate (the schedule). Tensors without a gradient
// are skipped, as PyTorch does.
//
// Per tensor, with lr = group.LR·factor and t its step count:
//
//	p  ← p·(1 − lr·wd)
//	m  ← m + (1−β1)(g − m)
//	v  ← β2·v + (1−β2)·g²
//	p  ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)
func (o *AdamW) Step(factor float64) error {
	if math.IsNaN(factor) || math.IsInf(factor, 0) || factor < 0 {
		return fmt.Errorf("invalid learning-rate factor %v", factor)
	}
	for i := range o.state {
		s := &o.state[i]
		g := s.p.Tensor.MustGrad(false)
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grp := o.groups[s.group]
		lr := grp.LR * factor
		s.step++
		if grp.WeightDecay != 0 {
			s.data.MustMulScalar_(ts.FloatScalar(1 - lr*grp.WeightDecay))
		}
		s.expAvg.MustLerp_(g, ts.FloatScalar(1-o.beta1))
		g2 := g.MustMulScalar(ts.FloatScalar(1-o.beta2), false)
		g2.MustMul_(g)
		s.expSq.MustMulScalar_(ts.FloatScalar(o.beta2))
		s.expSq.MustAdd_(g2)
		g2.MustDrop()
		g.MustDrop()

		bc1 := 1 - math.Pow(o.beta1, float64(s.step))
		bc2 := 1 - math.Pow(o.beta2, float64(s.step))
		stepSize := lr / bc1
		denom := s.expSq.MustSqrt(false)
		denom.MustDivScalar_(ts.FloatScalar(math.Sqrt(bc2)))
		denom.MustAddScalar_(ts.FloatScalar(o.eps))
		upd := s.expAvg.MustMulScalar(ts.FloatScalar(-stepSize), false)
		upd.MustDiv_(denom)
		s.data.MustAdd_(upd)
		upd.MustDrop()
		denom.MustDrop()
	}
	o.steps++
	o.factor = factor
	return nil
}

// ZeroGrad drops the gradients of every tensor the optimizer updates: they become undefined (None), as torch's
// zero_grad(set_to_none=True), its default, leaves them. A tensor that then receives no gradient before the next
// Step is skipped by it (no decay, no moment update), as torch skips it; zeroed gradients would move it.
func (o *AdamW) ZeroGrad() error { return dropGrads(o.state) }

func dropGrads(state []adamState) error {
	for i := range state {
		if err := state[i].p.Tensor.ResetGrad(); err != nil {
			return fmt.Errorf("loraplus: dropping the gradient of %s: %w", state[i].p.Name, err)
		}
	}
	return nil
}

// State returns the optimizer state as named tensors ("<param>.exp_avg", "<param>.exp_avg_sq") and metadata
// (step counts, and each tensor's group, lr and weight decay so a resume can check them).
func (o *AdamW) State() ([]nn.NamedTensor, map[string]string) {
	var ts []nn.NamedTensor
	meta := map[string]string{"optimizer": "adamw", "steps": strconv.Itoa(o.steps),
		"betas": fmt.Sprintf("%g,%g", o.beta1, o.beta2), "eps": fmt.Sprint(o.eps)}
	for _, s := range o.state {
		ts = append(ts, nn.NamedTensor{Name: s.p.Name + ".exp_avg", Tensor: s.expAvg},
			nn.NamedTensor{Name: s.p.Name + ".exp_avg_sq", Tensor: s.expSq})
		g := o.groups[s.group]
		meta["step."+s.p.Name] = strconv.Itoa(s.step)
		meta["group."+s.p.Name] = fmt.Sprintf("%s lr=%g wd=%g", g.Name, g.LR, g.WeightDecay)
	}
	return ts, meta
}

// LoadState restores a state written by State. Every tensor must be present with its shape, and every tensor
// must sit in the same group with the same lr and weight decay as when it was saved; otherwise the error names it.
func (o *AdamW) LoadState(tensors map[string]*ts.Tensor, meta map[string]string) error {
	if meta["optimizer"] != "adamw" {
		return fmt.Errorf("optimizer state is not an AdamW state")
	}
	steps, err := strconv.Atoi(meta["steps"])
	if err != nil {
		return fmt.Errorf("optimizer state: bad steps %q", meta["steps"])
	}
	for _, s := range o.state {
		g := o.groups[s.group]
		want := fmt.Sprintf("%s lr=%g wd=%g", g.Name, g.LR, g.WeightDecay)
		if got := meta["group."+s.p.Name]; got != want {
			return fmt.Errorf("optimizer state: %q was saved as %q, now %q", s.p.Name, got, want)
		}
		for _, pair := range []struct {
			suffix string
			dst    *ts.Tensor
		}{{".exp_avg", s.expAvg}, {".exp_avg_sq", s.expSq}} {
			src, ok := tensors[s.p.Name+pair.suffix]
			if !ok {
				return fmt.Errorf("optimizer state: missing %q", s.p.Name+pair.suffix)
			}
			if !nn.SameShape(src.MustSize(), pair.dst.MustSize()) {
				return fmt.Errorf("optimizer state: %q has shape %v, want %v", s.p.Name+pair.suffix, src.MustSize(), pair.dst.MustSize())
			}
		}
	}
	for i := range o.state {
		s := &o.state[i]
		s.expAvg.Copy_(tensors[s.p.Name+".exp_avg"])
		s.expSq.Copy_(tensors[s.p.Name+".exp_avg_sq"])
		s.step, _ = strconv.Atoi(meta["step."+s.p.Name])
	}
	o.steps = steps
	return nil
}
