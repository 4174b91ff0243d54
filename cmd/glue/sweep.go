package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/plot"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// sweepCell is one (lr_A, lr_B) run of a sweep.
type sweepCell struct {
	LRA      float64 `json:"lr_A"`
	LRB      float64 `json:"lr_B"`
	Ratio    float64 `json:"ratio"`
	Final    float64 `json:"final"` // the tracked metric at the end; -1 when the run diverged or did not run
	Best     float64 `json:"best"`
	Diverged string  `json:"diverged,omitempty"`
	Out      string  `json:"out"`
}

// sweepResult is written to sweep.json.
type sweepResult struct {
	Task   string      `json:"task"`
	Metric string      `json:"metric"`
	LRA    []float64   `json:"lr_A"`
	LRB    []float64   `json:"lr_B"`
	Cells  []sweepCell `json:"cells"`
}

// sweepAxes returns the lr_A and lr_B values of -sweep, or of -sweep-grid around lr.
func sweepAxes(o *options, lr float64) ([]float64, []float64) {
	if !o.sweepGrid {
		return o.sweepA, o.sweepB
	}
	scale := func(lo, hi int) []float64 {
		var v []float64
		for k := lo; k <= hi; k++ {
			v = append(v, lr*math.Pow(2, float64(k)))
		}
		return v
	}
	return scale(-2, 2), scale(-2, 6)
}

// runSweep trains every cell of the grid into OUT/sweep/ and draws OUT/sweep/heatmap.png: the final main dev
// metric (Task.BestKey, e.g. eval_accuracy) over (lr_A, lr_B), the best cell outlined, the lr_A = lr_B diagonal
// dashed. A diverged run is a grey cell. An interruption stops the sweep after writing what is done; with -resume latest a sweep continues
// (cellResume): finished cells are not trained again, the interrupted one resumes, the others start.
func runSweep(s *session, st *cli.Stopper) error {
	xs, ys := sweepAxes(s.o, s.lr)
	dir := filepath.Join(s.o.out, "sweep")
	metric := s.o.task.BestKey()
	res := sweepResult{Task: s.o.task.Name, Metric: metric, LRA: xs, LRB: ys}
	z := make([][]float64, len(ys))
	for iy := range z {
		z[iy] = make([]float64, len(xs))
		for ix := range z[iy] {
			z[iy][ix] = math.NaN()
		}
	}
	var stopErr error
cells:
	for iy, lrB := range ys {
		for ix, lrA := range xs {
			out := filepath.Join(dir, fmt.Sprintf("lrA_%g_lrB_%g", lrA, lrB))
			fmt.Fprintf(s.stdout, "sweep cell %d/%d: lr_A %g, lr_B %g\n", iy*len(xs)+ix+1, len(xs)*len(ys), lrA, lrB)
			resume, err := cellResume(out, s.o.resume)
			if err != nil {
				return err
			}
			cell := sweepCell{LRA: lrA, LRB: lrB, Ratio: lrB / lrA, Final: math.NaN(), Best: math.NaN(), Out: out}
			r, err := s.train(st, lrA, lrB/lrA, out, resume, iy == 0 && ix == 0)
			switch {
			case errors.Is(err, train.ErrInterrupted):
				stopErr = err
				break cells
			case err != nil:
				cell.Diverged = err.Error()
				fmt.Fprintf(s.stdout, "  failed: %v\n", err)
			default:
				if v, ok := s.o.task.Lookup(r.Metrics, metric); ok {
					cell.Final, z[iy][ix] = v, v
				}
				if r.Best != nil {
					cell.Best = r.Best.Value
				}
			}
			res.Cells = append(res.Cells, cell)
		}
	}
	if err := writeSweep(dir, res, z); err != nil {
		return err
	}
	return stopErr
}

// cellResume says how a run of -sweep or -compare starts in its folder out. With -resume latest and a
// checkpoint there, it resumes from the newest one: a cell interrupted (even killed) mid-run continues where its
// last checkpoint stands, and a finished cell, whose last checkpoint is its final step, only reads its state and
// writes its metrics again (the trainer state holds its metrics and loss sums). Otherwise the folder is emptied
// and the run starts afresh.
func cellResume(out, resume string) (string, error) {
	if resume == "latest" {
		if _, err := train.ResolveCheckpoint(out, "latest"); err == nil {
			return "latest", nil
		}
	}
	return "", os.RemoveAll(out)
}

func writeSweep(dir string, res sweepResult, z [][]float64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range res.Cells { // JSON has no NaN: -1 marks a missing value
		for _, v := range []*float64{&res.Cells[i].Final, &res.Cells[i].Best} {
			if math.IsNaN(*v) {
				*v = -1
			}
		}
	}
	if err := train.WriteJSON(filepath.Join(dir, "sweep.json"), res); err != nil {
		return err
	}
	h := &plot.Heatmap{
		Title:  fmt.Sprintf("%s: %s after training", res.Task, res.Metric),
		XLabel: "η_A", YLabel: "η_B", X: res.LRA, Y: res.LRB, Z: z,
		LogAxes: true, Diagonal: true, ColorbarLabel: res.Metric,
		Marks: plot.NearBest(z, false, 0.01), MarksLabel: "within 1% of the best",
	}
	b, ok := plot.BestCell(z, false)
	if !ok {
		return fmt.Errorf("sweep: no cell finished; see %s", filepath.Join(dir, "sweep.json"))
	}
	h.Best = &b
	return h.WritePNG(filepath.Join(dir, "heatmap.png"))
}
