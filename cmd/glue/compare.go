package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/plot"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// compareRun is one arm of -compare, written to compare.json.
type compareRun struct {
	Name    string        `json:"name"`
	Ratio   float64       `json:"ratio"`
	Out     string        `json:"out"`
	Result  *train.Result `json:"result"`
	Steps   []int         `json:"steps"`
	Metrics []float64     `json:"metric"`
}

// runCompare trains LoRA (ratio 1) and LoRA+ (-ratio) with the same lr_A and everything else equal, into
// OUT/compare/ratio-R/, and draws OUT/compare/compare.png: the task's main dev metric (Task.BestKey, e.g.
// eval_accuracy) over steps for both (the paper's Figure 7). With -resume latest each run continues from its
// newest checkpoint (cellResume).
func runCompare(s *session, st *cli.Stopper) error {
	dir := filepath.Join(s.o.out, "compare")
	metric := s.o.task.BestKey()
	var runs []compareRun
	for _, ratio := range []float64{1, s.o.ratio} {
		name := "LoRA (ratio 1)"
		if ratio != 1 {
			name = fmt.Sprintf("LoRA+ (ratio %g)", ratio)
		}
		out := filepath.Join(dir, fmt.Sprintf("ratio-%g", ratio))
		resume, err := cellResume(out, s.o.resume)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "compare: %s\n", name)
		res, err := s.train(st, s.lr, ratio, out, resume, ratio != 1)
		if err != nil {
			return err
		}
		hist, err := train.ReadHistory(filepath.Join(out, train.HistoryFile))
		if err != nil {
			return err
		}
		r := compareRun{Name: name, Ratio: ratio, Out: out, Result: res}
		for _, h := range hist {
			if v, ok := s.o.task.Lookup(h.Metrics, metric); ok {
				r.Steps, r.Metrics = append(r.Steps, h.Step), append(r.Metrics, v)
			}
		}
		runs = append(runs, r)
	}
	if err := train.WriteJSON(filepath.Join(dir, "compare.json"), runs); err != nil {
		return err
	}
	c := &plot.LineChart{Title: fmt.Sprintf("%s: %s, η_A %g", s.o.task.Name, metric, s.lr), XLabel: "step", YLabel: metric}
	for _, r := range runs {
		xs := make([]float64, len(r.Steps))
		for i, v := range r.Steps {
			xs[i] = float64(v)
		}
		c.Series = append(c.Series, plot.Series{Name: r.Name, X: xs, Y: r.Metrics})
	}
	path := filepath.Join(dir, "compare.png")
	if err := c.WritePNG(path); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s\n", path)
	return nil
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return weights.WriteFileAtomic(path, append(data, '\n'))
}
