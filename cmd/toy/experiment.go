package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// setup is one draw of frozen weights and data; the grid is run on each and averaged.
type setup struct {
	frozen      frozen
	train, test dataset
}

func newSetup(c config, seed uint64) setup {
	rng := rand.New(rand.NewPCG(seed, 42))
	return setup{
		frozen: newFrozen(rng, c.d, c.n),
		train:  newDataset(rng, c.trainSize, c.d),
		test:   newDataset(rng, c.testSize, c.d),
	}
}

// losses of one run at the early checkpoint and at the end.
type losses struct{ trainEarly, testEarly, trainFinal, testFinal float64 }

// divergedAbove marks a run as diverged: a loss this many times the loss at initialisation, or not finite.
const divergedAbove = 1e3

// run trains the adapter of the middle layer with full-batch gradient descent at (lrA, lrB).
func run(c config, s setup, seed uint64, lrA, lrB float64) (losses, error) {
	m := s.frozen.model()
	cfg := loraplus.Config{LoRAConfig: nn.LoRAConfig{Rank: c.r, Alpha: float64(c.r), Init: c.init}, Targets: []string{"w"}, Seed: seed}
	lm, err := loraplus.Wrap(m, cfg)
	if err != nil {
		return losses{}, err
	}
	oc := loraplus.OptimConfig{LR: lrA, Ratio: lrB / lrA, LREmbedding: 0, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	opt, err := lm.NewSGD(oc)
	if err != nil {
		return losses{}, err
	}
	var out losses
	init := m.loss(s.train)
	for step := 1; step <= c.steps; step++ {
		opt.ZeroGrad()
		y := m.forward(s.train.x)
		l := y.MustMseLoss(s.train.y, ts.ReductionMean, true)
		l.MustBackward()
		v := l.Float64Values(true)[0]
		if math.IsNaN(v) || math.IsInf(v, 0) || v > divergedAbove*init {
			return losses{math.NaN(), math.NaN(), math.NaN(), math.NaN()}, nil
		}
		if err := opt.Step(1); err != nil {
			return losses{}, err
		}
		if step == c.early {
			out.trainEarly, out.testEarly = m.loss(s.train), m.loss(s.test)
		}
	}
	out.trainFinal, out.testFinal = m.loss(s.train), m.loss(s.test)
	for _, v := range []*float64{&out.trainEarly, &out.testEarly, &out.trainFinal, &out.testFinal} {
		if math.IsNaN(*v) || math.IsInf(*v, 0) || *v > divergedAbove*init {
			*v = math.NaN()
		}
	}
	return out, nil
}

// logspace returns k values from lo to hi, evenly spaced in log and rounded to 4 significant digits.
func logspace(lo, hi float64, k int) []float64 {
	out := make([]float64, k)
	for i := range out {
		v := math.Exp(math.Log(lo) + float64(i)*(math.Log(hi)-math.Log(lo))/float64(k-1))
		out[i], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	}
	return out
}

func fmtLR(v float64) string { return fmt.Sprintf("%.3g", v) }
