package glue

import (
	"errors"
	"fmt"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

// Metrics maps metric names to values, e.g. {"acc": 0.85, "f1": 0.8, "acc_and_f1": 0.825} or, for MNLI,
// {"mnli-m/acc": 0.8, "mnli-mm/acc": 0.79}: the training session's metrics. The functions here never put NaN or
// infinities in it.
type Metrics = train.Metrics

// MergeMetrics returns the union of several metric sets; a key present twice is an error.
func MergeMetrics(sets ...Metrics) (Metrics, error) {
	out := Metrics{}
	for _, m := range sets {
		for k, v := range m {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("metric %q given twice", k)
			}
			out[k] = v
		}
	}
	return out, nil
}

// MNLIMetrics names the metrics of MNLI's matched and mismatched dev sets "mnli-m/..." and
// "mnli-mm/..." and merges them.
func MNLIMetrics(matched, mismatched Metrics) Metrics {
	out := matched.WithPrefix("mnli-m")
	for k, v := range mismatched.WithPrefix("mnli-mm") {
		out[k] = v
	}
	return out
}

// checkPair validates predictions and gold labels: same non-zero length, values in [0, n).
func checkPair(preds, labels []int, n int) error {
	if len(preds) != len(labels) {
		return fmt.Errorf("%d predictions for %d labels", len(preds), len(labels))
	}
	if len(preds) == 0 {
		return errors.New("no predictions to score")
	}
	for i := range preds {
		if preds[i] < 0 || preds[i] >= n {
			return fmt.Errorf("prediction %d is %d, want a class in [0, %d)", i, preds[i], n)
		}
		if labels[i] < 0 || labels[i] >= n {
			return fmt.Errorf("label %d is %d, want a class in [0, %d)", i, labels[i], n)
		}
	}
	return nil
}

// accuracy assumes checked input.
func accuracy(preds, labels []int) float64 {
	hit := 0
	for i := range preds {
		if preds[i] == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(preds))
}

// Accuracy returns the fraction of predictions equal to their labels. preds and labels are
// class ids of the same non-zero length.
func Accuracy(preds, labels []int) (float64, error) {
	if len(preds) != len(labels) {
		return 0, fmt.Errorf("accuracy: %d predictions for %d labels", len(preds), len(labels))
	}
	if len(preds) == 0 {
		return 0, errors.New("accuracy: no predictions to score")
	}
	return accuracy(preds, labels), nil
}

// BinaryF1 returns the F1 score of class 1 (2·TP / (2·TP + FP + FN)), as scikit-learn's
// f1_score with its defaults; it is 0 when there is neither a positive label nor a positive
// prediction. preds and labels hold 0 or 1 and have the same non-zero length.
func BinaryF1(preds, labels []int) (float64, error) {
	if err := checkPair(preds, labels, 2); err != nil {
		return 0, fmt.Errorf("F1: %w", err)
	}
	return binaryF1(preds, labels), nil
}

func binaryF1(preds, labels []int) float64 {
	var tp, fp, fn int
	for i := range preds {
		switch {
		case preds[i] == 1 && labels[i] == 1:
			tp++
		case preds[i] == 1:
			fp++
		case labels[i] == 1:
			fn++
		}
	}
	if tp == 0 {
		return 0
	}
	return 2 * float64(tp) / float64(2*tp+fp+fn)
}

// Evaluate scores predictions against gold labels (class ids of this task, same non-zero
// length) with the task's GLUE metric: {"acc"} or, for QQP, {"acc", "f1", "acc_and_f1"}.
func (t Task) Evaluate(preds, labels []int) (Metrics, error) {
	if err := checkPair(preds, labels, t.NumLabels()); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	acc := accuracy(preds, labels)
	switch t.Metric {
	case MetricAcc:
		return Metrics{"acc": acc}, nil
	case MetricAccAndF1:
		if t.NumLabels() != 2 {
			return nil, fmt.Errorf("%s: F1 needs 2 labels, task has %d", t.Name, t.NumLabels())
		}
		f1 := binaryF1(preds, labels)
		return Metrics{"acc": acc, "f1": f1, "acc_and_f1": (acc + f1) / 2}, nil
	}
	return nil, fmt.Errorf("%s: unknown metric %q", t.Name, t.Metric)
}
