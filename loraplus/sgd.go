package loraplus

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch/ts"
)

// SGD is plain gradient descent, p ← p − lr·g, with one learning rate per group: the optimizer of the paper's
// toy experiment.
type SGD struct {
	groups []Group
	state  []adamState // only p, data and group are used
}

// NewSGD builds gradient descent over the model's LoRA+ groups (only LR, Ratio and LREmbedding of c matter).
func (m *Model) NewSGD(c OptimConfig) (*SGD, error) {
	groups, err := BuildGroups(m.Params, c)
	if err != nil {
		return nil, err
	}
	o := &SGD{groups: groups}
	for gi, g := range groups {
		for _, p := range g.Params {
			o.state = append(o.state, adamState{p: p, data: p.Tensor.MustDetach(false), group: gi})
		}
	}
	return o, nil
}

// Groups returns the parameter groups.
func (o *SGD) Groups() []Group { return o.groups }

// Step applies p ← p − lr·factor·g to every tensor that has a gradient.
func (o *SGD) Step(factor float64) error {
	if math.IsNaN(factor) || math.IsInf(factor, 0) || factor < 0 {
		return fmt.Errorf("invalid learning-rate factor %v", factor)
	}
	for _, s := range o.state {
		g := s.p.Tensor.MustGrad(false)
		if g.MustDefined() {
			u := g.MustMulScalar(ts.FloatScalar(-o.groups[s.group].LR*factor), false)
			s.data.MustAdd_(u)
			u.MustDrop()
		}
		g.MustDrop()
	}
	return nil
}

// ZeroGrad drops the gradients (sets them to None), as AdamW.ZeroGrad does.
func (o *SGD) ZeroGrad() error { return dropGrads(o.state) }
