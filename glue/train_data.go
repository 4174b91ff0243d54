package glue

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DataOptions choose what LoadTrainData reads.
type DataOptions struct {
	Policy     Policy // what to do with malformed rows
	MaxLen     int    // truncation length
	LimitTrain int    // when > 0, keep only the first LimitTrain training examples
	LimitEval  int    // when > 0, keep only the first LimitEval examples of each evaluation split
}

// DataReport says what LoadTrainData read: example counts per file, truncations and skipped rows.
type DataReport struct {
	Files     map[string]int // path → examples kept
	Truncated int            // examples cut to MaxLen
	Skipped   []*LineError   // rows left out under SkipBadRows
}

// String summarises the report for logs: counts, then every skipped row as file:line: reason.
func (r *DataReport) String() string {
	var b strings.Builder
	paths := slices.Sorted(maps.Keys(r.Files))
	for _, p := range paths {
		fmt.Fprintf(&b, "%s: %d examples\n", p, r.Files[p])
	}
	fmt.Fprintf(&b, "truncated to max length: %d examples\n", r.Truncated)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "skipped %d malformed rows:\n", len(r.Skipped))
		for _, e := range r.Skipped {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	return b.String()
}

// LoadTrainData finds a task's files in dir (see Task.FindFiles), reads the training file and every evaluation
// file that exists, and tokenizes them. The training file must exist, and at least one evaluation file.
func LoadTrainData(task Task, dir string, tok Tokenizer, o DataOptions) (TrainData, *DataReport, error) {
	rep := &DataReport{Files: map[string]int{}}
	files, err := task.FindFiles(dir)
	if err != nil {
		return TrainData{}, nil, err
	}
	if files.Train == "" {
		return TrainData{}, nil, fmt.Errorf("%s: no training file %s in %s", task.Name, task.Train.File, files.Dir)
	}
	if len(files.Dev) == 0 {
		return TrainData{}, nil, fmt.Errorf("%s: no evaluation file in %s (looked for %s)", task.Name, files.Dir,
			strings.Join(files.Missing, ", "))
	}
	read := func(path string, limit int) ([]Encoded, error) {
		res, err := task.ReadFile(path, ReadOptions{Policy: o.Policy})
		if err != nil {
			return nil, err
		}
		rep.Skipped = append(rep.Skipped, res.Errors...)
		ex := res.Examples
		if limit > 0 && len(ex) > limit {
			ex = ex[:limit]
		}
		if len(ex) == 0 {
			return nil, fmt.Errorf("%s has no usable examples", path)
		}
		enc, cut, err := EncodeExamples(ex, tok, o.MaxLen)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rep.Truncated += cut
		rep.Files[path] = len(enc)
		return enc, nil
	}
	data := TrainData{PadID: tok.PadID}
	if data.Train, err = read(files.Train, o.LimitTrain); err != nil {
		return TrainData{}, nil, err
	}
	for _, s := range files.Dev {
		enc, err := read(s.File, o.LimitEval)
		if err != nil {
			return TrainData{}, nil, err
		}
		data.Evals = append(data.Evals, EvalSet{Name: s.Name, Suffix: s.Suffix, Data: enc})
	}
	return data, rep, nil
}
