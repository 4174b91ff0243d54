package loraplus

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// PlanRow is one trainable tensor and where the optimizer puts it.
type PlanRow struct {
	Name        string
	Kind        Kind
	Group       string
	LR          float64
	WeightDecay float64
	Shape       []int64
}

// Plan lists every trainable tensor with its group, learning rate, weight decay and shape, without building an
// optimizer. It fails when a tensor of the model requires grad but would not be trained (see CheckFrozen).
type Plan struct {
	Rows   []PlanRow
	Groups []Group
}

// Plan computes the optimizer plan for c.
func (m *Model) Plan(c OptimConfig) (*Plan, error) {
	if err := m.CheckFrozen(); err != nil {
		return nil, err
	}
	groups, err := BuildGroups(m.Params, c)
	if err != nil {
		return nil, err
	}
	p := &Plan{Groups: groups}
	placed := map[*Param]bool{}
	for _, g := range groups {
		for _, prm := range g.Params {
			placed[prm] = true
			p.Rows = append(p.Rows, PlanRow{prm.Name, prm.Kind, g.Name, g.LR, g.WeightDecay, prm.Tensor.MustSize()})
		}
	}
	for _, prm := range m.Params {
		if !placed[prm] {
			return nil, fmt.Errorf("trainable tensor %q is in no optimizer group", prm.Name)
		}
	}
	return p, nil
}

// String renders the plan as a table followed by a per-group summary.
func (p *Plan) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "tensor\tkind\tgroup\tlr\tweight decay\tshape")
	for _, r := range p.Rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%.3g\t%g\t%v\n", r.Name, r.Kind, r.Group, r.LR, r.WeightDecay, r.Shape)
	}
	w.Flush()
	for _, g := range p.Groups {
		var n int64
		for _, prm := range g.Params {
			n += int64(prm.Tensor.Numel())
		}
		fmt.Fprintf(&b, "group %-10s  %3d tensors  %9d values  lr %.3g  weight decay %g\n", g.Name, len(g.Params), n, g.LR, g.WeightDecay)
	}
	return b.String()
}
