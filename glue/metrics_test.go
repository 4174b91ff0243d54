package glue

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccuracyAndF1(t *testing.T) {
	tests := []struct {
		name          string
		preds, labels []int
		acc, f1       float64
	}{
		{"all right", []int{0, 1, 1, 0}, []int{0, 1, 1, 0}, 1, 1},
		{"all wrong", []int{1, 0}, []int{0, 1}, 0, 0},
		// tp=2 fp=1 fn=1 tn=1: f1 = 4/(4+1+1).
		{"mixed", []int{1, 1, 1, 0, 0}, []int{1, 1, 0, 1, 0}, 0.6, 4.0 / 6.0},
		// tp=1 fp=0 fn=2: precision 1, recall 1/3, f1 = 2/(2+0+2).
		{"low recall", []int{1, 0, 0, 0}, []int{1, 1, 1, 0}, 0.5, 0.5},
		// No positive label and no positive prediction: scikit-learn's f1_score gives 0.
		{"no positives", []int{0, 0, 0}, []int{0, 0, 0}, 1, 0},
		{"positives never predicted", []int{0, 0}, []int{1, 0}, 0.5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := Accuracy(tc.preds, tc.labels)
			require.NoError(t, err)
			assert.InDelta(t, tc.acc, acc, 1e-12)
			f1, err := BinaryF1(tc.preds, tc.labels)
			require.NoError(t, err)
			assert.InDelta(t, tc.f1, f1, 1e-12)
		})
	}
}

func TestMetricErrors(t *testing.T) {
	_, err := Accuracy([]int{1}, []int{1, 0})
	require.EqualError(t, err, "accuracy: 1 predictions for 2 labels")
	_, err = Accuracy(nil, nil)
	require.EqualError(t, err, "accuracy: no predictions to score")
	_, err = BinaryF1([]int{0, 2}, []int{0, 1})
	require.EqualError(t, err, "F1: prediction 1 is 2, want a class in [0, 2)")
	_, err = BinaryF1([]int{0, 1}, []int{-1, 1})
	require.EqualError(t, err, "F1: label 0 is -1, want a class in [0, 2)")
	_, err = mustTask(t, "mnli").Evaluate([]int{0, 3}, []int{0, 1})
	require.EqualError(t, err, "mnli: prediction 1 is 3, want a class in [0, 3)")
	bad := mustTask(t, "sst-2")
	bad.Metric = "mse"
	_, err = bad.Evaluate([]int{0}, []int{0})
	require.EqualError(t, err, `sst-2: unknown metric "mse"`)
}

func TestTaskEvaluate(t *testing.T) {
	tests := []struct {
		task          string
		preds, labels []int
		want          Metrics
		json          string
	}{
		{"sst-2", []int{1, 0, 1, 1}, []int{1, 0, 0, 1}, Metrics{"accuracy": 0.75}, `{"accuracy":0.75}`},
		{"qnli", []int{0, 0}, []int{0, 1}, Metrics{"accuracy": 0.5}, `{"accuracy":0.5}`},
		{"mnli", []int{0, 1, 2, 2}, []int{0, 1, 2, 0}, Metrics{"accuracy": 0.75}, `{"accuracy":0.75}`},
		{"qqp", []int{1, 1, 1, 0, 0}, []int{1, 1, 0, 1, 0},
			Metrics{"accuracy": 0.6, "f1": 4.0 / 6.0, "combined_score": (0.6 + 4.0/6.0) / 2},
			`{"accuracy":0.6,"combined_score":0.6333333333333333,"f1":0.6666666666666666}`},
	}
	for _, tc := range tests {
		t.Run(tc.task, func(t *testing.T) {
			got, err := mustTask(t, tc.task).Evaluate(tc.preds, tc.labels)
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for k, v := range tc.want {
				assert.InDelta(t, v, got[k], 1e-12, k)
			}
			js, err := json.Marshal(got)
			require.NoError(t, err)
			assert.JSONEq(t, tc.json, string(js))
		})
	}
}

// TestEvalKeysAndMerge checks the names of run_glue.py's MNLI results: matched under plain keys, mismatched with
// "_mm".
func TestEvalKeysAndMerge(t *testing.T) {
	m, err := MergeMetrics(EvalKeys(Metrics{"accuracy": 0.8}, ""), EvalKeys(Metrics{"accuracy": 0.75}, "_mm"))
	require.NoError(t, err)
	assert.Equal(t, Metrics{"eval_accuracy": 0.8, "eval_accuracy_mm": 0.75}, m)
	js, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Equal(t, `{"eval_accuracy":0.8,"eval_accuracy_mm":0.75}`, string(js))
	assert.Equal(t, "eval_accuracy=0.8000 eval_accuracy_mm=0.7500", m.String())

	all, err := MergeMetrics(m, Metrics{"eval_f1": 0.9})
	require.NoError(t, err)
	assert.Len(t, all, 3)
	_, err = MergeMetrics(m, Metrics{"eval_accuracy": 0.1})
	require.EqualError(t, err, `metric "eval_accuracy" given twice`)
}

// TestLookupReadsEarlierNames checks that metrics written under the names of earlier versions still read.
func TestLookupReadsEarlierNames(t *testing.T) {
	mnli, qqp := mustTask(t, "mnli"), mustTask(t, "qqp")
	old := Metrics{"mnli-m/acc": 0.8, "mnli-mm/acc": 0.7}
	for key, want := range map[string]float64{"eval_accuracy": 0.8, "eval_accuracy_mm": 0.7} {
		v, ok := mnli.Lookup(old, key)
		assert.True(t, ok, key)
		assert.Equal(t, want, v, key)
	}
	v, ok := qqp.Lookup(Metrics{"qqp/acc_and_f1": 0.6}, qqp.BestKey())
	assert.True(t, ok)
	assert.Equal(t, 0.6, v)
	v, ok = mnli.Lookup(Metrics{"eval_accuracy": 0.9, "mnli-m/acc": 0.1}, "eval_accuracy")
	assert.True(t, ok)
	assert.Equal(t, 0.9, v, "the current name first")
	_, ok = mnli.Lookup(old, "eval_f1")
	assert.False(t, ok)
}

// metricCase is one set of predictions sent to scripts/reference/glue_metrics.py.
type metricCase struct {
	Task   string `json:"task"`
	Preds  any    `json:"preds"`
	Labels any    `json:"labels"`
}

// TestMetricsMatchHF scores random and degenerate predictions of every task here and with the reference formulas
// of the evaluate library's glue metric (scikit-learn's and scipy's, in glue_metrics.py), under the names
// run_glue.py reports. Where the reference gives NaN (a correlation of constant scores) the value here is 0.
func TestMetricsMatchHF(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	classes := func(n, k int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = rng.IntN(k)
		}
		return out
	}
	scores := func(n int, step float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Round(rng.Float64()*5/step) * step // steps make ties
		}
		return out
	}
	var cases []metricCase
	for _, task := range Tasks() {
		for _, n := range []int{2, 7, 50, 301} {
			if task.Regression {
				cases = append(cases, metricCase{task.Name, scores(n, 0.2), scores(n, 0.25)})
				cases = append(cases, metricCase{task.Name, scores(n, 1e-6), scores(n, 1e-6)})
				continue
			}
			k := task.NumLabels()
			gold := classes(n, k)
			near := slices.Clone(gold)
			for i := range near {
				if rng.IntN(4) == 0 {
					near[i] = rng.IntN(k)
				}
			}
			cases = append(cases, metricCase{task.Name, classes(n, k), gold}, metricCase{task.Name, near, gold})
		}
		if task.Regression {
			cases = append(cases, metricCase{task.Name, []float64{2, 2, 2}, []float64{1, 2, 3}},
				metricCase{task.Name, []float64{1, 2, 3}, []float64{3, 3, 3}}, metricCase{task.Name, []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}})
			continue
		}
		cases = append(cases, metricCase{task.Name, []int{0, 0, 0}, []int{0, 1, 0}}, metricCase{task.Name, []int{1, 1}, []int{1, 1}},
			metricCase{task.Name, []int{0, 1, 1, 0}, []int{0, 1, 1, 0}}, metricCase{task.Name, []int{1, 0, 1, 0}, []int{0, 1, 0, 1}})
	}
	req, err := json.Marshal(cases)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "request.json")
	require.NoError(t, os.WriteFile(path, req, 0o644))
	var ref []map[string]*float64
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "glue_metrics.py", path)), &ref))
	require.Len(t, ref, len(cases))

	for i, c := range cases {
		task := mustTask(t, c.Task)
		var got Metrics
		if task.Regression {
			got, err = task.EvaluateScores(c.Preds.([]float64), c.Labels.([]float64))
		} else {
			got, err = task.Evaluate(c.Preds.([]int), c.Labels.([]int))
		}
		require.NoError(t, err, "case %d (%s)", i, c.Task)
		require.Len(t, got, len(ref[i]), "case %d (%s): %v against %v", i, c.Task, got, ref[i])
		for k, want := range ref[i] {
			v, ok := got[k]
			require.True(t, ok, "case %d (%s): no %q in %v", i, c.Task, k, got)
			if want == nil {
				assert.Zero(t, v, "case %d (%s): %s is NaN in the reference", i, c.Task, k)
				continue
			}
			assert.InDelta(t, *want, v, 1e-12, "case %d (%s): %s", i, c.Task, k)
		}
	}
}

func TestScoreErrors(t *testing.T) {
	stsb, mnli := mustTask(t, "sts-b"), mustTask(t, "mnli")
	_, err := stsb.EvaluateScores([]float64{1}, []float64{1})
	require.EqualError(t, err, "sts-b: 1 predictions: a correlation needs at least 2")
	_, err = stsb.EvaluateScores([]float64{1, math.NaN()}, []float64{1, 2})
	require.EqualError(t, err, "sts-b: prediction 1 is NaN")
	_, err = stsb.EvaluateScores([]float64{1, 2}, []float64{1})
	require.EqualError(t, err, "sts-b: 2 predictions for 1 scores")
	_, err = mnli.EvaluateScores([]float64{1, 2}, []float64{1, 2})
	require.EqualError(t, err, "mnli: not a regression task scored by correlation")
	_, err = stsb.Evaluate([]int{0}, []int{0})
	require.EqualError(t, err, "sts-b: a regression task is scored by EvaluateScores")
	_, err = MatthewsCorrelation([]int{0, 2}, []int{0, 1}, 2)
	require.EqualError(t, err, "matthews correlation: prediction 1 is 2, want a class in [0, 2)")
	_, err = Pearson([]float64{1}, []float64{1})
	require.ErrorContains(t, err, "pearson: 1 predictions")
	_, err = Spearman([]float64{1, 2}, []float64{1, math.Inf(1)})
	require.EqualError(t, err, "spearman: score 1 is +Inf")
	r, err := Spearman([]float64{1, 2, 2, 5}, []float64{10, 20, 20, 30})
	require.NoError(t, err)
	assert.InDelta(t, 1, r, 1e-12)
	m, err := MatthewsCorrelation([]int{1, 0, 1, 0}, []int{0, 1, 0, 1}, 2)
	require.NoError(t, err)
	assert.InDelta(t, -1, m, 1e-12)
}
