package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/plot"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// compareRun is one run of an arm of -compare: one seed.
type compareRun struct {
	Seed    uint64        `json:"seed"`
	Out     string        `json:"out"`
	Result  *train.Result `json:"result"`
	Steps   []int         `json:"steps"`
	Metrics []float64     `json:"metric"`
}

// compareArm is one method of -compare, LoRA or LoRA+, over its seeds.
type compareArm struct {
	Name  string       `json:"name"`
	LRA   float64      `json:"lr_A"`
	LRB   float64      `json:"lr_B"`
	Ratio float64      `json:"ratio"`
	Runs  []compareRun `json:"runs"`
	// Steps are the evaluation steps every run has; Mean and Std the metric's mean and sample standard deviation
	// over the runs there (Std 0 with one run).
	Steps []int     `json:"steps"`
	Mean  []float64 `json:"mean"`
	Std   []float64 `json:"std"`
}

// final returns the arm's mean and standard deviation at its last evaluation.
func (a *compareArm) final() (float64, float64) {
	if len(a.Mean) == 0 {
		return math.NaN(), math.NaN()
	}
	return a.Mean[len(a.Mean)-1], a.Std[len(a.Std)-1]
}

// compareResult is written to compare.json.
type compareResult struct {
	Task   string       `json:"task"`
	Metric string       `json:"metric"`
	Seeds  []uint64     `json:"seeds"`
	Arms   []compareArm `json:"arms"` // LoRA, then LoRA+
	// Difference is LoRA+'s final mean minus LoRA's, and StdErr its standard error sqrt(s₁²/n₁ + s₂²/n₂) (0 with
	// one seed).
	Difference float64 `json:"difference"`
	StdErr     float64 `json:"std_err"`
	// Target is LoRA's final mean; ReachStep the first evaluation step at which LoRA+'s mean reaches it (-1:
	// never), and SpeedUp LoRA's last step over ReachStep (the paper's Figure 7 reading).
	Target    float64 `json:"target"`
	ReachStep int     `json:"reach_step"`
	SpeedUp   float64 `json:"speed_up"`
}

// runCompare trains LoRA (ratio 1, at -lora-lr or lr_A) and LoRA+ (lr_A, -ratio), everything else equal, once per
// seed (-seeds, else -seed), into OUT/compare/ratio-R/ (OUT/compare/ratio-R/seed-S with -seeds), writes
// compare.json and prints the final means ± standard deviations, their difference with its standard error, and the
// step at which LoRA+ reaches LoRA's final mean. OUT/compare/compare.png draws the task's main dev metric (Task.BestKey,
// e.g. eval_accuracy) over steps for both, as the mean over seeds with a ±1 standard deviation band, and LoRA's
// final mean dashed (the paper's Figure 7). With -resume latest each run continues from its newest checkpoint
// (cellResume), and finished runs are only read.
func runCompare(s *session, st *cli.Stopper) error {
	dir := filepath.Join(s.o.out, "compare")
	metric := s.o.task.BestKey()
	seeds := s.o.seeds
	if seeds == nil {
		seeds = []uint64{s.o.seed}
	}
	loraLR := s.o.loraLR
	if loraLR == 0 {
		loraLR = s.lr
	}
	res := compareResult{Task: s.o.task.Name, Metric: metric, Seeds: seeds, Arms: []compareArm{
		{Name: "LoRA", LRA: loraLR, LRB: loraLR, Ratio: 1},
		{Name: ratioName(s.o.ratio), LRA: s.lr, LRB: s.lr * s.o.ratio, Ratio: s.o.ratio},
	}}
	first := true
	for i := range res.Arms {
		arm := &res.Arms[i]
		for _, seed := range seeds {
			out := filepath.Join(dir, fmt.Sprintf("ratio-%g", arm.Ratio))
			if s.o.seeds != nil {
				out = filepath.Join(out, fmt.Sprintf("seed-%d", seed))
			}
			resume, err := cellResume(out, s.o.resume)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.stdout, "compare: %s, lr_A %g, lr_B %g, seed %d\n", arm.Name, arm.LRA, arm.LRB, seed)
			s.seed = &seed
			r, err := s.train(st, arm.LRA, arm.Ratio, out, resume, first)
			s.seed = nil
			first = false
			if err != nil {
				return err
			}
			hist, err := train.ReadHistory(filepath.Join(out, train.HistoryFile))
			if err != nil {
				return err
			}
			run := compareRun{Seed: seed, Out: out, Result: r}
			for _, h := range hist {
				if v, ok := s.o.task.Lookup(h.Metrics, metric); ok {
					run.Steps, run.Metrics = append(run.Steps, h.Step), append(run.Metrics, v)
				}
			}
			arm.Runs = append(arm.Runs, run)
		}
		arm.summarize()
	}
	res.compare()
	if err := train.WriteJSON(filepath.Join(dir, "compare.json"), res); err != nil {
		return err
	}
	res.print(s)
	path := filepath.Join(dir, "compare.png")
	if err := res.chart().WritePNG(path); err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "wrote %s\n", path)
	return nil
}

// ratioName names the arm of ratio r (≠ 1): "LoRA+ (ratio 16)" when B learns faster, else "ratio 0.0625" (a
// sweep's best cell may lie below the diagonal, where the setting is not LoRA+).
func ratioName(r float64) string {
	if r > 1 {
		return fmt.Sprintf("LoRA+ (ratio %g)", r)
	}
	return fmt.Sprintf("ratio %g", r)
}

// summarize fills Steps, Mean and Std from the runs: the steps at which every run was evaluated.
func (a *compareArm) summarize() {
	a.Steps, a.Mean, a.Std = nil, nil, nil
	if len(a.Runs) == 0 {
		return
	}
	for i, step := range a.Runs[0].Steps {
		vals := []float64{a.Runs[0].Metrics[i]}
		for _, r := range a.Runs[1:] {
			j := slices.Index(r.Steps, step)
			if j < 0 {
				vals = nil
				break
			}
			vals = append(vals, r.Metrics[j])
		}
		if vals == nil {
			continue
		}
		m, sd := meanStd(vals)
		a.Steps, a.Mean, a.Std = append(a.Steps, step), append(a.Mean, m), append(a.Std, sd)
	}
}

// meanStd returns the mean and the sample standard deviation (n − 1; 0 for one value).
func meanStd(v []float64) (float64, float64) {
	var sum float64
	for _, x := range v {
		sum += x
	}
	m := sum / float64(len(v))
	if len(v) < 2 {
		return m, 0
	}
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}

// compare fills the difference, its standard error and the speed-up.
func (r *compareResult) compare() {
	lora, plus := &r.Arms[0], &r.Arms[1]
	m0, s0 := lora.final()
	m1, s1 := plus.final()
	r.Difference = m1 - m0
	r.StdErr = math.Sqrt(s0*s0/float64(len(lora.Runs)) + s1*s1/float64(len(plus.Runs)))
	r.Target, r.ReachStep, r.SpeedUp = m0, -1, 0
	for i, step := range plus.Steps {
		if plus.Mean[i] >= m0 {
			r.ReachStep = step
			if step > 0 && len(lora.Steps) > 0 {
				r.SpeedUp = float64(lora.Steps[len(lora.Steps)-1]) / float64(step)
			}
			break
		}
	}
}

// print writes the comparison table.
func (r *compareResult) print(s *session) {
	w := s.stdout
	lastStep := 0
	if a := r.Arms[0]; len(a.Steps) > 0 {
		lastStep = a.Steps[len(a.Steps)-1]
	}
	fmt.Fprintf(w, "\n%s at step %d, %d seed(s) %v:\n", r.Metric, lastStep, len(r.Seeds), r.Seeds)
	fmt.Fprintf(w, "%-20s %10s %10s %8s %8s  %s\n", "method", "lr_A", "lr_B", "mean", "std", "runs")
	for _, a := range r.Arms {
		m, sd := a.final()
		var runs []string
		for _, run := range a.Runs {
			if n := len(run.Metrics); n > 0 {
				runs = append(runs, fmt.Sprintf("%.4f", run.Metrics[n-1]))
			}
		}
		fmt.Fprintf(w, "%-20s %10.3g %10.3g %8.4f %8.4f  %s\n", a.Name, a.LRA, a.LRB, m, sd, strings.Join(runs, " "))
	}
	other := r.Arms[1].Name
	fmt.Fprintf(w, "difference %s − LoRA: %+.4f ± %.4f (standard error)\n", other, r.Difference, r.StdErr)
	if r.ReachStep >= 0 {
		fmt.Fprintf(w, "%s reaches LoRA's final mean %.4f at step %d (LoRA: step %d; speed-up %.2fx)\n", other, r.Target, r.ReachStep, lastStep, r.SpeedUp)
	} else {
		fmt.Fprintf(w, "%s does not reach LoRA's final mean %.4f within %d steps\n", other, r.Target, lastStep)
	}
}

// chart draws the mean curves with ±1 standard deviation bands and LoRA's final mean.
func (r *compareResult) chart() *plot.LineChart {
	title := fmt.Sprintf("%s: %s", r.Task, r.Metric)
	if len(r.Seeds) > 1 {
		title += fmt.Sprintf(", mean ± std over %d seeds", len(r.Seeds))
	}
	c := &plot.LineChart{Title: title, XLabel: "step", YLabel: r.Metric}
	for _, a := range r.Arms {
		sr := plot.Series{Name: fmt.Sprintf("%s, η_A %g, η_B %g", a.Name, a.LRA, a.LRB)}
		for i, step := range a.Steps {
			sr.X, sr.Y = append(sr.X, float64(step)), append(sr.Y, a.Mean[i])
			if len(r.Seeds) > 1 {
				sr.Lo, sr.Hi = append(sr.Lo, a.Mean[i]-a.Std[i]), append(sr.Hi, a.Mean[i]+a.Std[i])
			}
		}
		c.Series = append(c.Series, sr)
	}
	if !math.IsNaN(r.Target) {
		c.HLines = []plot.HLine{{Y: r.Target, Name: "LoRA's final mean"}}
	}
	return c
}
