package glue

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Example is one labelled GLUE example.
type Example struct {
	// ID is the value of the task's ID column (MNLI, QNLI, RTE, WNLI and STS-B "index", QQP "id"); for a
	// file without one (SST-2, CoLA, MRPC) it is Line-1, as in Hugging Face's guids.
	ID string
	// TextA is the first (or only) text; TextB the second text of a pair task, "" otherwise.
	TextA, TextB string
	// Label is the index of the label in Task.Labels; 0 for a regression task.
	Label int
	// Value is the gold score of a regression task (STS-B's similarity in [0, 5]); 0 for a classification task.
	Value float64
	// Line is the 1-based physical line of the row in its file.
	Line int
}

// Split names one file of a task, e.g. {Name: "mnli-mm", File: "dev_mismatched.tsv", Suffix: "_mm"}.
type Split struct {
	Name string
	File string
	// Suffix ends the metric names of an evaluation split, as Hugging Face's run_glue.py names MNLI's
	// mismatched results ("eval_accuracy_mm"); "" for the others.
	Suffix string
}

// Metric kinds, as named by Hugging Face's glue_compute_metrics; the metrics they give carry the names of the
// evaluate library's glue metric (see Task.Evaluate).
const (
	// MetricAcc is accuracy alone ("accuracy").
	MetricAcc = "acc"
	// MetricAccAndF1 is accuracy, binary F1 of class 1 and their mean ("accuracy", "f1", "combined_score").
	MetricAccAndF1 = "acc_and_f1"
	// MetricMCC is the Matthews correlation ("matthews_correlation"), CoLA's metric.
	MetricMCC = "mcc"
	// MetricPearsonSpearman is the Pearson and Spearman correlation of scores and their mean ("pearson",
	// "spearmanr", "combined_score"), STS-B's metric.
	MetricPearsonSpearman = "pearson_and_spearman"
)

// Task describes a GLUE task the way Hugging Face's GLUE processors do, with the columns named by header
// instead of position.
type Task struct {
	// Name is the lower-case task name: "cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst-2", "sts-b" or "wnli".
	Name string
	// Dir is the task's directory in the official GLUE download: "CoLA", "MNLI", "MRPC", "QNLI", ...
	Dir string
	// Headerless names the columns of files that have no header row (CoLA's train and dev files); nil when
	// the first row of a file names its columns.
	Headerless []string
	// TextA and TextB are the text columns; TextB is "" for a single-sentence task.
	TextA, TextB string
	// LabelColumn holds the label strings.
	LabelColumn string
	// Labels lists the label strings; a label's index here is its class id. It is nil for a regression task.
	Labels []string
	// Regression says the label column holds a score (STS-B): the model has one output, trained with the mean
	// squared error, as Hugging Face's problem_type "regression" (num_labels 1).
	Regression bool
	// IDColumn is the optional column that gives Example.ID ("" when the task has none).
	IDColumn string
	// Train is the training file; Dev lists the evaluation files, each with its metric prefix.
	Train Split
	Dev   []Split
	// Metric is MetricAcc, MetricAccAndF1, MetricMCC or MetricPearsonSpearman.
	Metric string
	// Main is the metric a run tracks as its best, without the "eval_" prefix: accuracy, CoLA's
	// matthews_correlation, STS-B's pearson, or the combined_score of MRPC and QQP.
	Main string
}

var tasks = []Task{
	{
		Name: "cola", Dir: "CoLA",
		Headerless: []string{"source", "label", "original_label", "sentence"},
		TextA:      "sentence", LabelColumn: "label",
		Labels: []string{"0", "1"},
		Train:  Split{Name: "train", File: "train.tsv"},
		Dev:    []Split{{Name: "cola", File: "dev.tsv"}},
		Metric: MetricMCC, Main: "matthews_correlation",
	},
	{
		Name: "mnli", Dir: "MNLI",
		TextA: "sentence1", TextB: "sentence2", LabelColumn: "gold_label",
		Labels:   []string{"contradiction", "entailment", "neutral"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev: []Split{
			{Name: "mnli-m", File: "dev_matched.tsv"},
			{Name: "mnli-mm", File: "dev_mismatched.tsv", Suffix: "_mm"},
		},
		Metric: MetricAcc, Main: "accuracy",
	},
	{
		Name: "mrpc", Dir: "MRPC",
		TextA: "#1 String", TextB: "#2 String", LabelColumn: "Quality",
		Labels: []string{"0", "1"},
		Train:  Split{Name: "train", File: "train.tsv"},
		Dev:    []Split{{Name: "mrpc", File: "dev.tsv"}},
		Metric: MetricAccAndF1, Main: "combined_score",
	},
	{
		Name: "qnli", Dir: "QNLI",
		TextA: "question", TextB: "sentence", LabelColumn: "label",
		Labels:   []string{"entailment", "not_entailment"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "qnli", File: "dev.tsv"}},
		Metric:   MetricAcc, Main: "accuracy",
	},
	{
		Name: "qqp", Dir: "QQP",
		TextA: "question1", TextB: "question2", LabelColumn: "is_duplicate",
		Labels:   []string{"0", "1"},
		IDColumn: "id",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "qqp", File: "dev.tsv"}},
		Metric:   MetricAccAndF1, Main: "combined_score",
	},
	{
		Name: "rte", Dir: "RTE",
		TextA: "sentence1", TextB: "sentence2", LabelColumn: "label",
		Labels:   []string{"entailment", "not_entailment"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "rte", File: "dev.tsv"}},
		Metric:   MetricAcc, Main: "accuracy",
	},
	{
		Name: "sst-2", Dir: "SST-2",
		TextA: "sentence", LabelColumn: "label",
		Labels: []string{"0", "1"},
		Train:  Split{Name: "train", File: "train.tsv"},
		Dev:    []Split{{Name: "sst-2", File: "dev.tsv"}},
		Metric: MetricAcc, Main: "accuracy",
	},
	{
		Name: "sts-b", Dir: "STS-B",
		TextA: "sentence1", TextB: "sentence2", LabelColumn: "score",
		Regression: true,
		IDColumn:   "index",
		Train:      Split{Name: "train", File: "train.tsv"},
		Dev:        []Split{{Name: "sts-b", File: "dev.tsv"}},
		Metric:     MetricPearsonSpearman, Main: "pearson",
	},
	{
		Name: "wnli", Dir: "WNLI",
		TextA: "sentence1", TextB: "sentence2", LabelColumn: "label",
		Labels:   []string{"0", "1"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "wnli", File: "dev.tsv"}},
		Metric:   MetricAcc, Main: "accuracy",
	},
}

// TaskNames returns the names of the supported tasks, sorted.
func TaskNames() []string {
	names := make([]string, len(tasks))
	for i, t := range tasks {
		names[i] = t.Name
	}
	sort.Strings(names)
	return names
}

// Tasks returns copies of all supported tasks.
func Tasks() []Task {
	out := make([]Task, len(tasks))
	for i, t := range tasks {
		out[i] = t.clone()
	}
	return out
}

// TaskByName returns a copy of the named task. Names are case-insensitive; "sst2" and "stsb" (the names
// of the datasets library's glue configurations) are accepted for "sst-2" and "sts-b".
func TaskByName(name string) (Task, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	switch key {
	case "sst2":
		key = "sst-2"
	case "stsb":
		key = "sts-b"
	}
	for _, t := range tasks {
		if t.Name == key {
			return t.clone(), nil
		}
	}
	return Task{}, fmt.Errorf("unknown task %q (valid tasks: %s)", name, strings.Join(TaskNames(), ", "))
}

func (t Task) clone() Task {
	t.Labels = slices.Clone(t.Labels)
	t.Headerless = slices.Clone(t.Headerless)
	t.Dev = slices.Clone(t.Dev)
	return t
}

// IsPair reports whether examples have two texts.
func (t Task) IsPair() bool { return t.TextB != "" }

// NumLabels returns the number of model outputs: the number of classes, or 1 for a regression task (as
// Hugging Face's num_labels).
func (t Task) NumLabels() int {
	if t.Regression {
		return 1
	}
	return len(t.Labels)
}

// LabelIndex returns the class id of a label string (exact match) and whether it is known.
func (t Task) LabelIndex(label string) (int, bool) {
	i := slices.Index(t.Labels, label)
	return i, i >= 0
}

// Columns returns the columns a file of this task must have: the text columns, then the label column.
func (t Task) Columns() []string {
	if t.IsPair() {
		return []string{t.TextA, t.TextB, t.LabelColumn}
	}
	return []string{t.TextA, t.LabelColumn}
}

// ReadOptions configures ReadExamples and ReadFile. The zero value stops at the first bad row.
type ReadOptions struct {
	Policy Policy
}

// ReadResult holds the examples read from one file and, under SkipBadRows, the rows skipped.
type ReadResult struct {
	Examples []Example
	// Skipped counts the bad rows left out; Errors holds one *LineError per skipped row, in
	// file order. Both are empty under StopAtFirstError, which returns the error instead.
	Skipped int
	Errors  []*LineError
}

// Err joins the errors of the skipped rows, or returns nil when no row was skipped.
func (r *ReadResult) Err() error {
	if len(r.Errors) == 0 {
		return nil
	}
	errs := make([]error, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// ReadFile reads the examples of a task from a GLUE TSV file; see ReadExamples.
func (t Task) ReadFile(path string, opts ReadOptions) (*ReadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	defer f.Close()
	return t.ReadExamples(f, path, opts)
}

// ReadExamples reads the examples of a task from a GLUE TSV stream; name is used in errors.
// Columns are found by header name, so column order does not matter; a task with Headerless columns
// (CoLA) reads every row as data. A row is bad when the TSVReader rejects it, when a text column is
// empty (or only white space), or when its label is not one of t.Labels (exact match) or, for a
// regression task, not a finite number. Under StopAtFirstError the first bad row's *LineError
// is returned; under SkipBadRows bad rows are counted and kept in ReadResult.Errors. A missing
// header or column and read failures are errors under both policies.
func (t Task) ReadExamples(r io.Reader, name string, opts ReadOptions) (*ReadResult, error) {
	if (len(t.Labels) == 0 && !t.Regression) || t.TextA == "" || t.LabelColumn == "" {
		return nil, fmt.Errorf("task %q is incomplete (want text and label columns and labels)", t.Name)
	}
	if opts.Policy != StopAtFirstError && opts.Policy != SkipBadRows {
		return nil, fmt.Errorf("unknown read policy %d", int(opts.Policy))
	}
	var tr *TSVReader
	var err error
	if t.Headerless != nil {
		tr, err = NewHeaderlessTSVReader(r, name, t.Headerless)
	} else {
		tr, err = NewTSVReader(r, name)
	}
	if err != nil {
		return nil, err
	}
	cols := t.Columns()
	idx, err := tr.Columns(cols...)
	if err != nil {
		return nil, err
	}
	idCol, hasID := -1, false
	if t.IDColumn != "" {
		idCol, hasID = tr.Column(t.IDColumn)
	}
	res := &ReadResult{}
	for {
		rec, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		var ex Example
		if err == nil {
			ex, err = t.example(tr.Name(), rec, cols, idx, idCol, hasID)
		}
		if err != nil {
			var le *LineError
			if opts.Policy == SkipBadRows && errors.As(err, &le) {
				res.Skipped++
				res.Errors = append(res.Errors, le)
				continue
			}
			return nil, err
		}
		res.Examples = append(res.Examples, ex)
	}
}

func (t Task) example(name string, rec Record, cols []string, idx []int, idCol int, hasID bool) (Example, error) {
	bad := func(format string, args ...any) (Example, error) {
		return Example{}, &LineError{File: name, Line: rec.Line, Msg: fmt.Sprintf(format, args...)}
	}
	nText := len(cols) - 1
	for k := 0; k < nText; k++ {
		if strings.TrimSpace(rec.Fields[idx[k]]) == "" {
			return bad("empty text in column %q", cols[k])
		}
	}
	raw := rec.Fields[idx[nText]]
	if raw == "" {
		return bad("empty label in column %q", t.LabelColumn)
	}
	ex := Example{TextA: rec.Fields[idx[0]], Line: rec.Line}
	if t.Regression {
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("score %q in column %q is not a finite number", raw, t.LabelColumn)
		}
		ex.Value = v
	} else {
		label, ok := t.LabelIndex(raw)
		if !ok {
			return bad("unknown label %q in column %q (want one of: %s)", raw, t.LabelColumn, strings.Join(t.Labels, ", "))
		}
		ex.Label = label
	}
	if nText == 2 {
		ex.TextB = rec.Fields[idx[1]]
	}
	if hasID {
		ex.ID = rec.Fields[idCol]
	} else {
		ex.ID = strconv.Itoa(rec.Line - 1) // Hugging Face's line index: from 1 after a header, from 0 without
	}
	return ex, nil
}

// Files are the data files of a task found in a directory. A path is "" when its file is absent.
type Files struct {
	// Dir is the task directory the files are in.
	Dir string
	// Train is the training file.
	Train string
	// Dev holds the evaluation files that exist, in the order of Task.Dev: each Split has the
	// split's name (e.g. "mnli-m") and the file's path.
	Dev []Split
	// Missing lists the paths looked for and not found.
	Missing []string
}

// FindFiles locates the files of a task. dir is either the task directory itself (it holds
// the task's train or dev file, e.g. .../MNLI or the few-shot .../MNLI-16shot) or a GLUE root
// laid out as the official download, holding the task directory (MNLI/, QQP/, SST-2/, QNLI/).
// The task directory is checked first. Absent files are listed in Files.Missing; it is an
// error when none of the task's files is there.
func (t Task) FindFiles(dir string) (*Files, error) {
	if f := t.filesIn(dir); f != nil {
		return f, nil
	}
	sub := filepath.Join(dir, t.Dir)
	if f := t.filesIn(sub); f != nil {
		return f, nil
	}
	names := []string{t.Train.File}
	for _, s := range t.Dev {
		names = append(names, s.File)
	}
	msg := fmt.Sprintf("no %s data in %q: want %s in it (the task directory) or in %s",
		t.Name, dir, strings.Join(names, " or "), sub)
	if entries, err := os.ReadDir(dir); err == nil {
		var near []string
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(strings.ToUpper(e.Name()), t.Dir) {
				near = append(near, filepath.Join(dir, e.Name()))
			}
		}
		if len(near) > 0 {
			msg += fmt.Sprintf("; task directories there: %s", strings.Join(near, ", "))
		}
	}
	return nil, errors.New(msg)
}

// filesIn returns the task's files in dir, or nil when dir holds none of them.
func (t Task) filesIn(dir string) *Files {
	f := &Files{Dir: dir}
	found := false
	check := func(name string) string {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			found = true
			return p
		}
		f.Missing = append(f.Missing, p)
		return ""
	}
	f.Train = check(t.Train.File)
	for _, s := range t.Dev {
		if p := check(s.File); p != "" {
			s.File = p
			f.Dev = append(f.Dev, s)
		}
	}
	if !found {
		return nil
	}
	return f
}
