package glue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Example is one labelled GLUE example.
type Example struct {
	// ID is the value of the task's ID column (MNLI and QNLI "index", QQP "id"); for a file
	// without one (SST-2) it is the data row number, Line-1, as in Hugging Face's guids.
	ID string
	// TextA is the first (or only) text; TextB the second text of a pair task, "" otherwise.
	TextA, TextB string
	// Label is the index of the label in Task.Labels.
	Label int
	// Line is the 1-based physical line of the row in its file.
	Line int
}

// Split names one file of a task, e.g. {Name: "mnli-m", File: "dev_matched.tsv"}.
type Split struct {
	Name string
	File string
}

// Metric kinds, as named by Hugging Face's glue_compute_metrics.
const (
	// MetricAcc is accuracy alone ("acc").
	MetricAcc = "acc"
	// MetricAccAndF1 is accuracy, binary F1 of class 1 and their mean ("acc", "f1", "acc_and_f1").
	MetricAccAndF1 = "acc_and_f1"
)

// Task describes a GLUE classification task the way Hugging Face's GLUE processors do, with
// the columns named by header instead of position.
type Task struct {
	// Name is the lower-case task name: "mnli", "qqp", "sst-2" or "qnli".
	Name string
	// Dir is the task's directory in the official GLUE download: "MNLI", "QQP", "SST-2", "QNLI".
	Dir string
	// TextA and TextB are the text columns; TextB is "" for a single-sentence task.
	TextA, TextB string
	// LabelColumn holds the label strings.
	LabelColumn string
	// Labels lists the label strings; a label's index here is its class id.
	Labels []string
	// IDColumn is the optional column that gives Example.ID ("" when the task has none).
	IDColumn string
	// Train is the training file; Dev lists the evaluation files, each with its metric prefix.
	Train Split
	Dev   []Split
	// Metric is MetricAcc or MetricAccAndF1.
	Metric string
}

var tasks = []Task{
	{
		Name: "mnli", Dir: "MNLI",
		TextA: "sentence1", TextB: "sentence2", LabelColumn: "gold_label",
		Labels:   []string{"contradiction", "entailment", "neutral"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev: []Split{
			{Name: "mnli-m", File: "dev_matched.tsv"},
			{Name: "mnli-mm", File: "dev_mismatched.tsv"},
		},
		Metric: MetricAcc,
	},
	{
		Name: "qqp", Dir: "QQP",
		TextA: "question1", TextB: "question2", LabelColumn: "is_duplicate",
		Labels:   []string{"0", "1"},
		IDColumn: "id",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "qqp", File: "dev.tsv"}},
		Metric:   MetricAccAndF1,
	},
	{
		Name: "sst-2", Dir: "SST-2",
		TextA: "sentence", LabelColumn: "label",
		Labels: []string{"0", "1"},
		Train:  Split{Name: "train", File: "train.tsv"},
		Dev:    []Split{{Name: "sst-2", File: "dev.tsv"}},
		Metric: MetricAcc,
	},
	{
		Name: "qnli", Dir: "QNLI",
		TextA: "question", TextB: "sentence", LabelColumn: "label",
		Labels:   []string{"entailment", "not_entailment"},
		IDColumn: "index",
		Train:    Split{Name: "train", File: "train.tsv"},
		Dev:      []Split{{Name: "qnli", File: "dev.tsv"}},
		Metric:   MetricAcc,
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

// TaskByName returns a copy of the named task. Names are case-insensitive; "sst2" is accepted
// for "sst-2".
func TaskByName(name string) (Task, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "sst2" {
		key = "sst-2"
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
	t.Dev = slices.Clone(t.Dev)
	return t
}

// IsPair reports whether examples have two texts.
func (t Task) IsPair() bool { return t.TextB != "" }

// NumLabels returns the number of classes.
func (t Task) NumLabels() int { return len(t.Labels) }

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
// Columns are found by header name, so column order does not matter. A row is bad when the
// TSVReader rejects it, when a text column is empty (or only white space), or when its label
// is not one of t.Labels (exact match). Under StopAtFirstError the first bad row's *LineError
// is returned; under SkipBadRows bad rows are counted and kept in ReadResult.Errors. A missing
// header or column and read failures are errors under both policies.
func (t Task) ReadExamples(r io.Reader, name string, opts ReadOptions) (*ReadResult, error) {
	if len(t.Labels) == 0 || t.TextA == "" || t.LabelColumn == "" {
		return nil, fmt.Errorf("task %q is incomplete (want text and label columns and labels)", t.Name)
	}
	if opts.Policy != StopAtFirstError && opts.Policy != SkipBadRows {
		return nil, fmt.Errorf("unknown read policy %d", int(opts.Policy))
	}
	tr, err := NewTSVReader(r, name)
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
	label, ok := t.LabelIndex(raw)
	if !ok {
		return bad("unknown label %q in column %q (want one of: %s)", raw, t.LabelColumn, strings.Join(t.Labels, ", "))
	}
	ex := Example{TextA: rec.Fields[idx[0]], Label: label, Line: rec.Line}
	if nText == 2 {
		ex.TextB = rec.Fields[idx[1]]
	}
	if hasID {
		ex.ID = rec.Fields[idCol]
	} else {
		ex.ID = strconv.Itoa(rec.Line - 1)
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
			f.Dev = append(f.Dev, Split{Name: s.Name, File: p})
		}
	}
	if !found {
		return nil
	}
	return f
}
