package data

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as an aligned text table: the overall micro
// and macro averages, then categories, subcategories and subjects, each
// with its question count, micro accuracy and macro accuracy.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "MMLU\tsubjects\tquestions\tacc (micro)\tacc (macro)\n")
	fmt.Fprintf(tw, "all\t%d\t%d\t%.4f\t%.4f\n", r.Subjects, r.Questions, r.Acc, r.MacroAcc)
	sections := []struct {
		title  string
		scores []Score
	}{
		{"category", r.PerCategory},
		{"subcategory", r.PerSubcategory},
		{"subject", r.PerSubject},
	}
	for _, sec := range sections {
		if len(sec.scores) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\t\t\t\t\n%s\t\t\t\t\n", sec.title)
		for _, s := range sec.scores {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\n", s.Name, s.Subjects, s.Total, s.Acc, s.MacroAcc)
		}
	}
	return tw.Flush()
}
