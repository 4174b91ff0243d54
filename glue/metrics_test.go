package glue

import (
	"encoding/json"
	"testing"

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
	bad.Metric = "mcc"
	_, err = bad.Evaluate([]int{0}, []int{0})
	require.EqualError(t, err, `sst-2: unknown metric "mcc"`)
}

func TestTaskEvaluate(t *testing.T) {
	tests := []struct {
		task          string
		preds, labels []int
		want          Metrics
		json          string
	}{
		{"sst-2", []int{1, 0, 1, 1}, []int{1, 0, 0, 1}, Metrics{"acc": 0.75}, `{"acc":0.75}`},
		{"qnli", []int{0, 0}, []int{0, 1}, Metrics{"acc": 0.5}, `{"acc":0.5}`},
		{"mnli", []int{0, 1, 2, 2}, []int{0, 1, 2, 0}, Metrics{"acc": 0.75}, `{"acc":0.75}`},
		{"qqp", []int{1, 1, 1, 0, 0}, []int{1, 1, 0, 1, 0},
			Metrics{"acc": 0.6, "f1": 4.0 / 6.0, "acc_and_f1": (0.6 + 4.0/6.0) / 2},
			`{"acc":0.6,"acc_and_f1":0.6333333333333333,"f1":0.6666666666666666}`},
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

func TestMNLIMetricsAndMerge(t *testing.T) {
	m := MNLIMetrics(Metrics{"acc": 0.8}, Metrics{"acc": 0.75})
	assert.Equal(t, Metrics{"mnli-m/acc": 0.8, "mnli-mm/acc": 0.75}, m)
	js, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Equal(t, `{"mnli-m/acc":0.8,"mnli-mm/acc":0.75}`, string(js))
	assert.Equal(t, "mnli-m/acc=0.8000 mnli-mm/acc=0.7500", m.String())

	all, err := MergeMetrics(m, Metrics{"qqp/acc": 0.9})
	require.NoError(t, err)
	assert.Len(t, all, 3)
	_, err = MergeMetrics(m, Metrics{"mnli-m/acc": 0.1})
	require.EqualError(t, err, `metric "mnli-m/acc" given twice`)
}
