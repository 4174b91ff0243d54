package loraplus_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
)

func TestGroupsFollowTheOfficialRule(t *testing.T) {
	lockThread(t)
	net := newToyNet(3)
	m, err := loraplus.Wrap(net, loraplus.DefaultConfig(toyTargets...))
	require.NoError(t, err)
	addToyExtras(t, net, m)
	oc := loraplus.DefaultOptimConfig(1e-4)
	oc.WeightDecay = 0.1
	groups, err := loraplus.BuildGroups(m.Params, oc)
	require.NoError(t, err)
	got := map[string][]string{}
	lr := map[string]float64{}
	wd := map[string]float64{}
	for _, g := range groups {
		lr[g.Name], wd[g.Name] = g.LR, g.WeightDecay
		for _, p := range g.Params {
			got[g.Name] = append(got[g.Name], p.Name)
		}
	}
	assert.Equal(t, map[string][]string{
		"A":          {"fc1.lora_A.weight", "fc2.lora_A.weight", "head.weight"},
		"embedding":  {"emb.lora_embedding_A", "emb.lora_embedding_B"},
		"B":          {"fc1.lora_B.weight", "fc2.lora_B.weight", "gate"},
		"B_no_decay": {"head.bias", "ln.weight", "ln.bias"},
	}, got)
	assert.Equal(t, map[string]float64{"A": 1e-4, "embedding": 1e-6, "B": 16e-4, "B_no_decay": 16e-4}, lr)
	assert.Equal(t, map[string]float64{"A": 0.1, "embedding": 0.1, "B": 0.1, "B_no_decay": 0}, wd)
}

func TestEmptyGroupsAreNotCreated(t *testing.T) {
	lockThread(t)
	m, err := loraplus.Wrap(newToyNet(3), loraplus.DefaultConfig("fc1", "fc2"))
	require.NoError(t, err)
	groups, err := loraplus.BuildGroups(m.Params, loraplus.DefaultOptimConfig(1e-4))
	require.NoError(t, err)
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	assert.Equal(t, []string{"A", "B"}, names)
}

func TestPlanListsEveryTrainableTensor(t *testing.T) {
	lockThread(t)
	net := newToyNet(3)
	m, err := loraplus.Wrap(net, loraplus.DefaultConfig(toyTargets...))
	require.NoError(t, err)
	addToyExtras(t, net, m)
	plan, err := m.Plan(loraplus.DefaultOptimConfig(2e-4))
	require.NoError(t, err)
	assert.Len(t, plan.Rows, len(m.Params))
	s := plan.String()
	for _, want := range []string{"fc2.lora_B.weight", "lora_B", "B_no_decay", "[10 8]", "0.0032", "group A"} {
		assert.Contains(t, s, want)
	}
}

func TestPlanRefusesAnUntrainedTensorThatRequiresGrad(t *testing.T) {
	lockThread(t)
	net := newToyNet(3)
	m, err := loraplus.Wrap(net, loraplus.DefaultConfig("fc1"))
	require.NoError(t, err)
	net.Head.Bias.MustRequiresGrad_(true)
	_, err = m.Plan(loraplus.DefaultOptimConfig(2e-4))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"head.bias" requires grad but is in no optimizer group`)
}

// Weight decay is applied per group: with zero gradients an AdamW step only decays, so decayed groups shrink by
// exactly (1 − lr·wd) and the no-decay group does not move.
func TestPerGroupWeightDecay(t *testing.T) {
	lockThread(t)
	net := newToyNet(3)
	m := wrapToy(t, net, loraplus.DefaultConfig(toyTargets...))
	addToyExtras(t, net, m)
	oc := loraplus.DefaultOptimConfig(1e-2)
	oc.WeightDecay, oc.LREmbedding = 0.5, 1e-2
	opt, err := m.NewAdamW(oc)
	require.NoError(t, err)
	before := map[string][]float64{}
	for _, p := range m.Params {
		before[p.Name] = p.Tensor.MustDetach(false).Float64Values(true)
		// a defined, all-zero gradient
		y := p.Tensor.MustMulScalar(ts.FloatScalar(0), false).MustSum(gotch.Float, true)
		y.MustBackward()
		y.MustDrop()
	}
	require.NoError(t, opt.Step(1))
	for _, g := range opt.Groups() {
		for _, p := range g.Params {
			after := p.Tensor.MustDetach(false).Float64Values(true)
			shrink := 1 - g.LR*g.WeightDecay
			for i := range after {
				require.InDelta(t, before[p.Name][i]*shrink, after[i], 1e-7, "%s in group %s", p.Name, g.Name)
			}
		}
	}
	assert.True(t, strings.Contains(opt.Groups()[3].Name, "no_decay") && opt.Groups()[3].WeightDecay == 0)
}
