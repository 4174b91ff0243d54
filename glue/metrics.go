package glue

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

// Metrics maps metric names to values: the training session's metrics. Task.Evaluate gives the names of the
// evaluate library's glue metric, e.g. {"accuracy": 0.85, "f1": 0.8, "combined_score": 0.825}; a run's
// evaluation names them as Hugging Face's run_glue.py writes them (EvalKeys), e.g. for MNLI {"eval_accuracy":
// 0.8, "eval_accuracy_mm": 0.79}. The functions here never put NaN or infinities in it.
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

// EvalKeys names metrics as Hugging Face's Trainer and run_glue.py write them: "eval_" + name + suffix, where
// suffix is the evaluation split's Split.Suffix ("_mm" for MNLI's mismatched dev set).
func EvalKeys(m Metrics, suffix string) Metrics {
	out := make(Metrics, len(m))
	for k, v := range m {
		out["eval_"+k+suffix] = v
	}
	return out
}

// legacyNames maps the metric names of earlier versions (Hugging Face's glue_compute_metrics) to the current.
var legacyNames = map[string]string{"acc": "accuracy", "f1": "f1", "acc_and_f1": "combined_score"}

// Lookup returns the metric key (e.g. "eval_accuracy") of m, falling back to the name earlier versions wrote
// for it ("mnli-m/acc", "qqp/acc_and_f1") so that a finished run of an earlier version still reads.
func (t Task) Lookup(m Metrics, key string) (float64, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for _, s := range t.Dev {
		for old, name := range legacyNames {
			if key == "eval_"+name+s.Suffix {
				if v, ok := m[s.Name+"/"+old]; ok {
					return v, true
				}
			}
		}
	}
	return 0, false
}

// BestKey is the metric a run of the task tracks as its best: "eval_" + t.Main on the first evaluation split.
func (t Task) BestKey() string { return "eval_" + t.Main }

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

// MatthewsCorrelation returns the Matthews correlation coefficient of class predictions, as scikit-learn's
// matthews_corrcoef (its multiclass form, equal to the binary one for two classes); 0 when it is undefined
// (all predictions or all labels in one class). preds and labels are class ids in [0, n), same non-zero
// length.
func MatthewsCorrelation(preds, labels []int, n int) (float64, error) {
	if err := checkPair(preds, labels, n); err != nil {
		return 0, fmt.Errorf("matthews correlation: %w", err)
	}
	return matthews(preds, labels, n), nil
}

func matthews(preds, labels []int, n int) float64 {
	p, l := make([]float64, n), make([]float64, n)
	correct := 0.0
	for i := range preds {
		p[preds[i]]++
		l[labels[i]]++
		if preds[i] == labels[i] {
			correct++
		}
	}
	s := float64(len(preds))
	var pl, pp, ll float64
	for k := range n {
		pl += p[k] * l[k]
		pp += p[k] * p[k]
		ll += l[k] * l[k]
	}
	den := (s*s - pp) * (s*s - ll)
	if den == 0 {
		return 0
	}
	return (correct*s - pl) / math.Sqrt(den)
}

// checkScores validates regression predictions and gold scores: same length, at least 2, finite.
func checkScores(preds, gold []float64) error {
	if len(preds) != len(gold) {
		return fmt.Errorf("%d predictions for %d scores", len(preds), len(gold))
	}
	if len(preds) < 2 {
		return fmt.Errorf("%d predictions: a correlation needs at least 2", len(preds))
	}
	for i := range preds {
		if math.IsNaN(preds[i]) || math.IsInf(preds[i], 0) {
			return fmt.Errorf("prediction %d is %v", i, preds[i])
		}
		if math.IsNaN(gold[i]) || math.IsInf(gold[i], 0) {
			return fmt.Errorf("score %d is %v", i, gold[i])
		}
	}
	return nil
}

// Pearson returns the Pearson correlation of x and y, as scipy's pearsonr; 0 where scipy gives NaN (x or y
// constant). x and y are finite, of the same length, at least 2.
func Pearson(x, y []float64) (float64, error) {
	if err := checkScores(x, y); err != nil {
		return 0, fmt.Errorf("pearson: %w", err)
	}
	return pearson(x, y), nil
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	r := sxy / math.Sqrt(sxx*syy)
	return max(-1, min(1, r))
}

// Spearman returns the Spearman rank correlation of x and y, as scipy's spearmanr: the Pearson correlation of
// their ranks, tied values sharing their mean rank; 0 where scipy gives NaN. Input as Pearson.
func Spearman(x, y []float64) (float64, error) {
	if err := checkScores(x, y); err != nil {
		return 0, fmt.Errorf("spearman: %w", err)
	}
	return pearson(ranks(x), ranks(y)), nil
}

// ranks returns the 1-based rank of every value, ties getting the mean of their ranks.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}

// Evaluate scores class predictions against gold labels (class ids of this task, same non-zero length) with
// the task's GLUE metric, named as the evaluate library's glue metric names them: {"accuracy"}; for MRPC and
// QQP {"accuracy", "f1", "combined_score"} (combined_score is their mean, as run_glue.py adds it); for CoLA
// {"matthews_correlation"}. A regression task is scored by EvaluateScores.
func (t Task) Evaluate(preds, labels []int) (Metrics, error) {
	if t.Regression {
		return nil, fmt.Errorf("%s: a regression task is scored by EvaluateScores", t.Name)
	}
	if err := checkPair(preds, labels, t.NumLabels()); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	acc := accuracy(preds, labels)
	switch t.Metric {
	case MetricAcc:
		return Metrics{"accuracy": acc}, nil
	case MetricAccAndF1:
		if t.NumLabels() != 2 {
			return nil, fmt.Errorf("%s: F1 needs 2 labels, task has %d", t.Name, t.NumLabels())
		}
		f1 := binaryF1(preds, labels)
		return Metrics{"accuracy": acc, "f1": f1, "combined_score": (acc + f1) / 2}, nil
	case MetricMCC:
		return Metrics{"matthews_correlation": matthews(preds, labels, t.NumLabels())}, nil
	}
	return nil, fmt.Errorf("%s: unknown metric %q", t.Name, t.Metric)
}

// EvaluateScores scores the predicted scores of a regression task (STS-B) against the gold scores (finite,
// same length, at least 2): {"pearson", "spearmanr", "combined_score"}, combined_score their mean.
func (t Task) EvaluateScores(preds, gold []float64) (Metrics, error) {
	if !t.Regression || t.Metric != MetricPearsonSpearman {
		return nil, fmt.Errorf("%s: not a regression task scored by correlation", t.Name)
	}
	if err := checkScores(preds, gold); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	p, s := pearson(preds, gold), pearson(ranks(preds), ranks(gold))
	return Metrics{"pearson": p, "spearmanr": s, "combined_score": (p + s) / 2}, nil
}
