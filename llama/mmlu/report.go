package mmlu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as an aligned text table: the overall row
// (micro accuracy over questions and macro accuracy over subjects), then
// the categories, subcategories and subjects, one row each with subject
// count, question count, micro and macro accuracy.
func (r Report) WriteTable(w io.Writer) error {
	sections := []struct {
		title  string
		scores []Score
	}{
		{"overall", []Score{{Name: "all", Correct: r.Correct, Total: r.Questions, Subjects: r.Subjects, Acc: r.Acc, MacroAcc: r.MacroAcc}}},
		{"category", r.PerCategory},
		{"subcategory", r.PerSubcategory},
		{"subject", r.PerSubject},
	}
	width := len("subcategory")
	for _, sec := range sections {
		for _, s := range sec.scores {
			width = max(width, len(s.Name))
		}
	}
	bw := bufio.NewWriter(w)
	row := func(name, subjects, questions, acc, macro string) {
		fmt.Fprintf(bw, "%-*s  %8s  %9s  %11s  %11s\n", width, name, subjects, questions, acc, macro)
	}
	for i, sec := range sections {
		if len(sec.scores) == 0 {
			continue
		}
		if i > 0 {
			bw.WriteString("\n")
		}
		row(sec.title, "subjects", "questions", "acc (micro)", "acc (macro)")
		for _, s := range sec.scores {
			row(s.Name, fmt.Sprint(s.Subjects), fmt.Sprint(s.Total), fmt.Sprintf("%.4f", s.Acc), fmt.Sprintf("%.4f", s.MacroAcc))
		}
	}
	return bw.Flush()
}
