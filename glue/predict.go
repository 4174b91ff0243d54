package glue

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// EvalOptions say how a model is run without training (Evaluate, Predict).
type EvalOptions struct {
	Batch        int  // examples per forward pass
	MaxLen       int  // the examples' max length (batches are padded to it)
	PadToLongest bool // pad each batch to its longest example instead
	Device       gotch.Device
}

// classifier is the trainer's task with only what evaluation needs.
func (o EvalOptions) classifier(model nn.SequenceClassifier, task Task, data TrainData) (*classify, error) {
	if model == nil {
		return nil, fmt.Errorf("glue: no model")
	}
	if o.Batch <= 0 || o.MaxLen <= 0 {
		return nil, fmt.Errorf("glue: batch and max length must be > 0, got %d and %d", o.Batch, o.MaxLen)
	}
	cfg := TrainConfig{Config: train.Config{BatchSize: o.Batch}, Task: task, MaxLen: o.MaxLen, PadToLongest: o.PadToLongest, Device: o.Device}
	return &classify{cfg: cfg, model: model, data: data}, nil
}

// Evaluate scores model on every evaluation set of data as the trainer's evaluation does (the same metric
// names: eval_accuracy, eval_accuracy_mm, ...), without training; data.Train is not used.
func Evaluate(model nn.SequenceClassifier, task Task, data TrainData, o EvalOptions) (Metrics, error) {
	c, err := o.classifier(model, task, data)
	if err != nil {
		return nil, err
	}
	if len(data.Evals) == 0 {
		return nil, fmt.Errorf("glue: evaluate: no evaluation set")
	}
	return c.Evaluate()
}

// LoadEvalData finds a task's files in dir (see Task.FindFiles) and reads and tokenizes its evaluation files
// only (LoadTrainData without the training file).
func LoadEvalData(task Task, dir string, tok Tokenizer, o DataOptions) (TrainData, *DataReport, error) {
	rep := &DataReport{Files: map[string]int{}}
	files, err := task.FindFiles(dir)
	if err != nil {
		return TrainData{}, nil, err
	}
	if len(files.Dev) == 0 {
		return TrainData{}, nil, fmt.Errorf("%s: no evaluation file in %s (looked for %s)", task.Name, files.Dir,
			strings.Join(files.Missing, ", "))
	}
	data := TrainData{PadID: tok.PadID}
	for _, s := range files.Dev {
		res, err := task.ReadFile(s.File, ReadOptions{Policy: o.Policy})
		if err != nil {
			return TrainData{}, nil, err
		}
		rep.Skipped = append(rep.Skipped, res.Errors...)
		ex := res.Examples
		if o.LimitEval > 0 && len(ex) > o.LimitEval {
			ex = ex[:o.LimitEval]
		}
		if len(ex) == 0 {
			return TrainData{}, nil, fmt.Errorf("%s has no usable examples", s.File)
		}
		enc, cut, err := EncodeExamples(ex, tok, o.MaxLen)
		if err != nil {
			return TrainData{}, nil, fmt.Errorf("%s: %w", s.File, err)
		}
		rep.Truncated += cut
		rep.Files[s.File] = len(enc)
		data.Evals = append(data.Evals, EvalSet{Name: s.Name, Suffix: s.Suffix, Data: enc})
	}
	return data, rep, nil
}

// ReadTestFile reads the unlabelled examples of a GLUE test file (test.tsv, test_matched.tsv, ...): a header
// row naming the task's text columns and usually its ID column ("index"; QQP "id"). An example's ID is that
// column's value, or without it the row's number from 0 (as Hugging Face's run_glue.py numbers its
// predictions). An empty text is an error naming the file and line.
func (t Task) ReadTestFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := NewTSVReader(f, path)
	if err != nil {
		return nil, err
	}
	cols := []string{t.TextA}
	if t.TextB != "" {
		cols = append(cols, t.TextB)
	}
	idx, err := tr.Columns(cols...)
	if err != nil {
		return nil, err
	}
	idCol, hasID := -1, false
	if t.IDColumn != "" {
		idCol, hasID = tr.Column(t.IDColumn)
	}
	var out []Example
	for {
		rec, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for k, c := range cols {
			if strings.TrimSpace(rec.Fields[idx[k]]) == "" {
				return nil, &LineError{File: path, Line: rec.Line, Msg: fmt.Sprintf("empty text in column %q", c)}
			}
		}
		ex := Example{TextA: rec.Fields[idx[0]], Line: rec.Line, ID: strconv.Itoa(len(out))}
		if len(cols) == 2 {
			ex.TextB = rec.Fields[idx[1]]
		}
		if hasID {
			ex.ID = rec.Fields[idCol]
		}
		out = append(out, ex)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no examples", path)
	}
	return out, nil
}

// Predict runs model on data and returns each example's prediction as GLUE's submission files write it: the
// label string of the argmax class (MNLI entailment, neutral or contradiction; RTE and QNLI entailment or
// not_entailment; CoLA, SST-2, MRPC, QQP and WNLI 0 or 1) or, for STS-B, the score with three decimals, as
// run_glue.py's "{item:3.3f}".
func Predict(model nn.SequenceClassifier, task Task, data []Encoded, padID int, o EvalOptions) ([]string, error) {
	c, err := o.classifier(model, task, TrainData{PadID: padID})
	if err != nil {
		return nil, err
	}
	p, err := c.predict(data)
	if err != nil {
		return nil, fmt.Errorf("glue: predict: %w", err)
	}
	out := make([]string, 0, len(data))
	if task.Regression {
		for _, v := range p.scores {
			out = append(out, strconv.FormatFloat(v, 'f', 3, 64))
		}
		return out, nil
	}
	for _, k := range p.classes {
		if k < 0 || k >= len(task.Labels) {
			return nil, fmt.Errorf("glue: predict: class %d outside the %d labels of %s", k, len(task.Labels), task.Name)
		}
		out = append(out, task.Labels[k])
	}
	return out, nil
}

// WritePredictions writes GLUE's submission format: a header "index\tprediction", then one "ID\tprediction"
// row per example, in order.
func WritePredictions(w io.Writer, ids, preds []string) error {
	if len(ids) != len(preds) {
		return fmt.Errorf("glue: %d ids for %d predictions", len(ids), len(preds))
	}
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "index\tprediction\n")
	for i := range ids {
		fmt.Fprintf(bw, "%s\t%s\n", ids[i], preds[i])
	}
	return bw.Flush()
}
