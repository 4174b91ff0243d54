package mmlu

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ListSubjects returns, sorted, the subjects that have a file
// root/split/<subject>_<split>.csv.
func ListSubjects(root, split string) ([]string, error) {
	dir := filepath.Join(root, split)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mmlu: list subjects: %w", err)
	}
	suffix := "_" + split + ".csv"
	var subjects []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, suffix) || len(name) == len(suffix) {
			continue
		}
		subjects = append(subjects, strings.TrimSuffix(name, suffix))
	}
	if len(subjects) == 0 {
		return nil, fmt.Errorf("mmlu: no *%s files in %s", suffix, dir)
	}
	sort.Strings(subjects)
	return subjects, nil
}

// ParseSubjectList splits a comma-separated subject list such as the value
// of a -subjects flag. Blanks around names are trimmed and empty items
// dropped, so "" yields nil (meaning all subjects).
func ParseSubjectList(spec string) []string {
	var out []string
	for _, s := range strings.Split(spec, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SelectSubjects checks requested against available. An empty request
// selects all of available. Otherwise the requested subjects are returned in
// the order given, without repeats; any unknown name gives an error that
// names the unknown subjects and lists the valid ones.
func SelectSubjects(available, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return append([]string(nil), available...), nil
	}
	known := make(map[string]bool, len(available))
	for _, s := range available {
		known[s] = true
	}
	seen := make(map[string]bool, len(requested))
	var out, unknown []string
	for _, s := range requested {
		switch {
		case !known[s]:
			unknown = append(unknown, fmt.Sprintf("%q", s))
		case !seen[s]:
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("mmlu: unknown subjects %s; valid subjects: %s",
			strings.Join(unknown, ", "), strings.Join(available, ", "))
	}
	return out, nil
}

// LoadOptions selects what [Load] reads.
type LoadOptions struct {
	// Split is the split evaluated: "test" (the default when empty) or "val"
	// (or "dev").
	Split string
	// Subjects restricts the subjects (see [SelectSubjects]); empty means all
	// subjects that have a file in Split.
	Subjects []string
	// Limit keeps only the first Limit questions of each subject; 0 keeps all.
	Limit int
	// NoDev leaves the dev files unread (SubjectData.Dev nil): a zero-shot evaluation uses no dev rows, so it
	// must not require their files.
	NoDev bool
}

// SubjectData holds one subject's few-shot examples and evaluation questions.
type SubjectData struct {
	// Name is the subject, e.g. "abstract_algebra".
	Name string
	// Dev are the rows of the subject's dev file, in file order; a k-shot
	// prompt uses the first k.
	Dev []Question
	// Questions are the evaluation questions of the chosen split, in file order.
	Questions []Question
}

// Load reads an MMLU data directory laid out as
// root/{dev,val,test}/<subject>_<split>.csv. Subjects are listed from the
// file names of opts.Split, as the reference lists them from the test folder.
// A selected subject whose file of opts.Split holds no question is an error
// naming the file(s): an evaluation must not report an accuracy over nothing.
func Load(root string, opts LoadOptions) ([]SubjectData, error) {
	split := opts.Split
	if split == "" {
		split = "test"
	}
	if opts.Limit < 0 {
		return nil, fmt.Errorf("mmlu: limit %d: want >= 0", opts.Limit)
	}
	available, err := ListSubjects(root, split)
	if err != nil {
		return nil, err
	}
	subjects, err := SelectSubjects(available, opts.Subjects)
	if err != nil {
		return nil, err
	}
	out := make([]SubjectData, 0, len(subjects))
	var empty []string
	for _, s := range subjects {
		var dev []Question
		if !opts.NoDev {
			if dev, err = ReadQuestionsFile(subjectFile(root, "dev", s), s); err != nil {
				return nil, err
			}
		}
		path := subjectFile(root, split, s)
		qs, err := ReadQuestionsFile(path, s)
		if err != nil {
			return nil, err
		}
		if len(qs) == 0 {
			empty = append(empty, path)
		}
		if opts.Limit > 0 && len(qs) > opts.Limit {
			qs = qs[:opts.Limit]
		}
		out = append(out, SubjectData{Name: s, Dev: dev, Questions: qs})
	}
	switch {
	case len(empty) == 1:
		return nil, fmt.Errorf("mmlu: %s holds no questions", empty[0])
	case len(empty) > 1:
		return nil, fmt.Errorf("mmlu: %d files hold no questions: %s", len(empty), strings.Join(empty, ", "))
	}
	return out, nil
}

func subjectFile(root, split, subject string) string {
	return filepath.Join(root, split, subject+"_"+split+".csv")
}
