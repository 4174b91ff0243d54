package train

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// toyModel is one linear layer; the tests train a LoRA adapter on it.
type toyModel struct {
	Proj *nn.Linear `name:"proj"`
}

// toyTask regresses y = W·x with a randomly initialised layer: each example is one row of x [N, D] and y [N, D].
type toyTask struct {
	m       *toyModel
	x, y    *ts.Tensor
	nanFrom int // Backward calls from this one on (1-based) return a NaN loss; 0 never
	calls   int
}

const toyDim = 8

func newToyTask(n int, seed uint64) *toyTask {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := nn.Normal(rng, []int64{toyDim, toyDim}, 0, 0.5, gotch.CPU)
	x := nn.Normal(rng, []int64{int64(n), toyDim}, 0, 1, gotch.CPU)
	y := x.MustMatmul(w.MustT(false), false)
	w.MustDrop()
	return &toyTask{
		m: &toyModel{Proj: nn.NewLinear(nn.Normal(rng, []int64{toyDim, toyDim}, 0, 0.1, gotch.CPU), nn.Zeros([]int64{toyDim}, gotch.CPU))},
		x: x, y: y,
	}
}

func (k *toyTask) Len() int { return int(k.x.MustSize()[0]) }

// mse is the mean squared error of the examples idx (all of them when nil).
func (k *toyTask) mse(idx []int, train bool) *ts.Tensor {
	x, y := k.x, k.y
	if idx != nil {
		ix := make([]int64, len(idx))
		for i, v := range idx {
			ix[i] = int64(v)
		}
		it := ts.MustOfSlice(ix)
		defer it.MustDrop()
		x, y = k.x.MustIndexSelect(0, it, false), k.y.MustIndexSelect(0, it, false)
		defer x.MustDrop()
		defer y.MustDrop()
	}
	pred := k.m.Proj.ForwardT(x, train)
	loss := pred.MustMseLoss(y, ts.ReductionMean, true)
	return loss
}

func (k *toyTask) Backward(b Batch) (Loss, error) {
	k.calls++
	loss := k.mse(b.Indices, true)
	if k.nanFrom > 0 && k.calls >= k.nanFrom {
		loss = loss.MustMulScalar(ts.FloatScalar(math.NaN()), true)
	}
	v := loss.Float64Values()[0]
	loss = loss.MustMulScalar(ts.FloatScalar(b.Scale), true)
	loss.MustBackward()
	loss.MustDrop()
	return Loss{Value: v, Tokens: 0}, nil
}

// toyEval is the toy task with an evaluation: the negated MSE on every example ("neg_mse", higher is better).
type toyEval struct{ *toyTask }

func (k toyEval) Evaluate() (Metrics, error) {
	var v float64
	nn.NoGrad(func() { v = k.mse(nil, false).Float64Values(true)[0] })
	return Metrics{"neg_mse": -v}, nil
}

// toyConfig is a fast configuration: batches of 8, 2 epochs, lr_A 1e-2 with ratio 16, checkpoints at the end.
func toyConfig(out string) Config {
	return Config{Optim: loraplus.DefaultOptimConfig(1e-2), Schedule: "linear", BatchSize: 8, Epochs: 2, Seed: 42,
		Out: out, Name: "toy", TaskType: "FEATURE_EXTRACTION", BestMetric: "neg_mse", Log: &strings.Builder{}}
}

// wrapToy wraps the task's layer with a rank-4 adapter (dropout as given).
func wrapToy(t testing.TB, k *toyTask, dropout float64) *loraplus.Model {
	t.Helper()
	lc := loraplus.DefaultConfig("proj")
	lc.Rank, lc.Alpha, lc.Dropout = 4, 8, dropout
	lm, err := loraplus.Wrap(k.m, lc)
	require.NoError(t, err)
	return lm
}

// newToySession wraps the task's layer with a rank-4 adapter (dropout as given) and starts a session.
func newToySession(t testing.TB, k *toyTask, task Task, cfg Config, dropout float64) *Session {
	t.Helper()
	s, err := New(wrapToy(t, k, dropout), task, cfg)
	require.NoError(t, err)
	return s
}

// trainable returns every trainable tensor's values by name.
func trainable(s *Session) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range s.Model().Params {
		d := p.Tensor.MustDetach(false)
		out[p.Name] = d.MustView([]int64{-1}, true).Float64Values(true)
	}
	return out
}

// runFile reads a run's metrics.json, history.jsonl or log.jsonl with what differs between two runs of the same training
// blanked: wall times and speeds, and the output folder in paths.
func runFile(t *testing.T, out, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, name))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if name == MetricsFile {
		lines = []string{string(data)}
	}
	var rows []map[string]any
	for _, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(line, out, "OUT")), &m))
		for _, k := range []string{"seconds", "train_seconds", "seconds_per_step", "train_examples_per_second", "train_tokens_per_second",
			"examples_per_second", "tokens_per_second"} {
			if _, ok := m[k]; ok {
				m[k] = 0
			}
		}
		rows = append(rows, m)
	}
	return rows
}

func scalar(v float64) *ts.Scalar { return ts.FloatScalar(v) }
