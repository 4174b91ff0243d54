package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Stats are the medians of one stack's runs of a row.
type Stats struct {
	StepsPerS float64 `json:"steps_per_s"`
	ItemsPerS float64 `json:"items_per_s"`
	FirstStep float64 `json:"first_step_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	LoadS     float64 `json:"load_s,omitempty"`
	PeakGPUMB float64 `json:"peak_gpu_mb,omitempty"`
	// CgoPerStep and TensorsPerStep are counted in this project's worker only (0 for the peer).
	CgoPerStep     float64 `json:"cgo_calls_per_step,omitempty"`
	TensorsPerStep float64 `json:"tensors_per_step,omitempty"`
}

// Summarize takes the median of every metric over results.
func Summarize(results []Result) Stats {
	col := func(f func(Result) float64) float64 {
		v := make([]float64, len(results))
		for i, r := range results {
			v[i] = f(r)
		}
		return Median(v)
	}
	return Stats{
		StepsPerS: col(func(r Result) float64 { return r.StepsPerS }),
		ItemsPerS: col(func(r Result) float64 { return r.ItemsPerS }),
		FirstStep: col(func(r Result) float64 { return r.FirstStep }),
		PeakRSSMB: col(func(r Result) float64 { return r.PeakRSSMB }),
		LoadS:     col(func(r Result) float64 { return r.LoadS }),
		PeakGPUMB: col(func(r Result) float64 { return r.PeakGPUMB }),

		CgoPerStep:     col(func(r Result) float64 { return r.CgoPerStep }),
		TensorsPerStep: col(func(r Result) float64 { return r.TensorsPerStep }),
	}
}

// RowReport is one row of the benchmark: its workload, the runs of both stacks and their medians, or why it was
// skipped.
type RowReport struct {
	Row      string   `json:"row"`
	Title    string   `json:"title"`    // the row's shapes, e.g. "B=4 T=128, 1 warm-up + 2 steps"
	Workload string   `json:"workload"` // what the row runs
	Unit     string   `json:"unit"`     // what items_per_s counts: "tokens" or "prompts"
	Skipped  string   `json:"skipped,omitempty"`
	Project  []Result `json:"project_runs,omitempty"`
	Peer     []Result `json:"peer_runs,omitempty"`
	ProjMed  *Stats   `json:"project,omitempty"`
	PeerMed  *Stats   `json:"peer,omitempty"`
	Note     string   `json:"note,omitempty"` // e.g. a disagreement of the MMLU answers
}

// Ratio returns project/peer, NaN when either is not a positive number.
func Ratio(project, peer float64) float64 {
	if !(project > 0) || !(peer > 0) || math.IsInf(project, 0) || math.IsInf(peer, 0) {
		return math.NaN()
	}
	return project / peer
}

// metric is one line of the table for a row.
type metric struct {
	name   string
	better string // "higher" or "lower"
	value  func(Stats) float64
	format string
}

// metrics are the lines of a row; load time and GPU memory appear where both stacks measured them.
func metrics(unit string, proj, peer Stats) []metric {
	m := []metric{
		{"steps/s", "higher", func(s Stats) float64 { return s.StepsPerS }, "%.4g"},
		{unit + "/s", "higher", func(s Stats) float64 { return s.ItemsPerS }, "%.4g"},
		{"start→1st step s", "lower", func(s Stats) float64 { return s.FirstStep }, "%.2f"},
		{"peak RSS MiB", "lower", func(s Stats) float64 { return s.PeakRSSMB }, "%.0f"},
	}
	if proj.LoadS > 0 && peer.LoadS > 0 {
		m = append(m, metric{"load s", "lower", func(s Stats) float64 { return s.LoadS }, "%.1f"})
	}
	if proj.PeakGPUMB > 0 && peer.PeakGPUMB > 0 {
		m = append(m, metric{"peak GPU MiB", "lower", func(s Stats) float64 { return s.PeakGPUMB }, "%.0f"})
	}
	return m
}

// WriteTable prints the rows as an aligned table: row, metric, project, peer, ratio project/peer and which
// direction is better; a skipped row prints its reason. Each row's workload follows the table.
func WriteTable(w io.Writer, rows []RowReport) error {
	if err := writeTable(w, rows); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Workload == "" {
			continue
		}
		line := r.Row + ": " + r.Workload
		if r.ProjMed != nil && r.ProjMed.CgoPerStep > 0 {
			line += fmt.Sprintf(" (project, per step: %.0f cgo calls, %.0f tensors)", r.ProjMed.CgoPerStep, r.ProjMed.TensorsPerStep)
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func writeTable(w io.Writer, rows []RowReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "row\tmetric\tproject (Go)\tpeer (PyTorch+PEFT)\tproject/peer\tbetter")
	for _, r := range rows {
		label := r.Row + " (" + r.Title + ")"
		if r.Skipped != "" || r.ProjMed == nil || r.PeerMed == nil {
			reason := r.Skipped
			if reason == "" {
				reason = "no measurements"
			}
			fmt.Fprintf(tw, "%s\tskipped: %s\t\t\t\t\n", label, reason)
			continue
		}
		for i, m := range metrics(r.Unit, *r.ProjMed, *r.PeerMed) {
			if i > 0 {
				label = ""
			}
			p, q := m.value(*r.ProjMed), m.value(*r.PeerMed)
			fmt.Fprintf(tw, "%s\t%s\t"+m.format+"\t"+m.format+"\t%.2f\t%s\n", label, m.name, p, q, Ratio(p, q), m.better)
		}
		if r.Note != "" {
			fmt.Fprintf(tw, "\tnote: %s\t\t\t\t\n", r.Note)
		}
	}
	return tw.Flush()
}
