// Command toy runs the LoRA+ paper's toy experiment (Section 3.2, Appendix C.1.1, Figure 2): a ReLU MLP whose
// frozen middle weight is adapted by LoRA, trained by full-batch gradient descent on a synthetic regression
// task over a log-spaced grid of (lr_A, lr_B). It writes, per panel (train and test loss, early and after
// convergence), a CSV and a PNG heatmap with the best cell and the lr_A = lr_B diagonal marked, plus a figure
// with all four panels and summary.json, and prints where the best cells lie.
//
//	go run ./cmd/toy -out out/toy
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
)

type config struct {
	out                 string
	d, n                int64
	r                   int
	trainSize, testSize int64
	steps, early        int
	grid                int
	lrMin, lrMax        float64
	seeds               int
	init                nn.LoRAInit
	threads             int
}

func parseFlags(args []string) (config, error) {
	var c config
	var init string
	fs := flag.NewFlagSet("toy", flag.ContinueOnError)
	fs.StringVar(&c.out, "out", "out/toy", "output directory")
	fs.Int64Var(&c.d, "d", 5, "input dimension")
	fs.Int64Var(&c.n, "n", 100, "width of the MLP (the adapted layer is n×n)")
	fs.IntVar(&c.r, "r", 4, "LoRA rank (alpha = r, so the scale is 1)")
	fs.Int64Var(&c.trainSize, "train", 1000, "training examples")
	fs.Int64Var(&c.testSize, "test", 1000, "test examples")
	fs.IntVar(&c.steps, "steps", 400, "gradient-descent steps (the 'after convergence' panels)")
	fs.IntVar(&c.early, "early", 10, "step of the 'early in training' panels")
	fs.IntVar(&c.grid, "grid", 10, "grid points per learning-rate axis")
	fs.Float64Var(&c.lrMin, "lr-min", 1e-3, "smallest learning rate of the grid")
	fs.Float64Var(&c.lrMax, "lr-max", 30, "largest learning rate of the grid")
	fs.IntVar(&c.seeds, "seeds", 3, "independent draws of weights and data; losses are averaged over them")
	fs.IntVar(&c.threads, "threads", 1, "libtorch intra-op threads (the toy's matrices are too small to gain from more)")
	fs.StringVar(&init, "init", "b-zero", "LoRA init: b-zero (A random, B = 0) or a-zero (A = 0, B random)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.init, err = nn.ParseLoRAInit(init); err != nil {
		return c, err
	}
	switch {
	case c.d <= 0 || c.n <= 0 || c.trainSize <= 0 || c.testSize <= 0:
		return c, fmt.Errorf("-d, -n, -train and -test must be > 0")
	case c.r <= 0:
		return c, fmt.Errorf("-r must be > 0, got %d", c.r)
	case c.steps <= 0 || c.early <= 0 || c.early > c.steps:
		return c, fmt.Errorf("need 0 < -early <= -steps, got %d and %d", c.early, c.steps)
	case c.grid < 2:
		return c, fmt.Errorf("-grid must be >= 2, got %d", c.grid)
	case !(c.lrMin > 0 && c.lrMax > c.lrMin):
		return c, fmt.Errorf("need 0 < -lr-min < -lr-max, got %g and %g", c.lrMin, c.lrMax)
	case c.threads <= 0:
		return c, fmt.Errorf("-threads must be > 0, got %d", c.threads)
	case c.seeds <= 0:
		return c, fmt.Errorf("-seeds must be > 0, got %d", c.seeds)
	}
	return c, nil
}

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread
	c, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "toy:", err)
		os.Exit(2)
	}
	if err := runExperiment(c); err != nil {
		fmt.Fprintln(os.Stderr, "toy:", err)
		os.Exit(1)
	}
}

func runExperiment(c config) error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	if err := nn.SetNumThreads(c.threads); err != nil {
		return err
	}
	lrs := logspace(c.lrMin, c.lrMax, c.grid)
	start := time.Now()
	res, err := sweep(c, lrs, progress.New("toy grid", c.grid*c.grid*c.seeds))
	if err != nil {
		return err
	}
	summary := summary{Config: describe(c), LRs: lrs, Seconds: time.Since(start).Seconds()}
	for _, p := range panels {
		z := res.grid(p)
		best, err := writePanel(c, p, lrs, z)
		if err != nil {
			return err
		}
		summary.Panels = append(summary.Panels, best)
		fmt.Printf("%-28s best loss %.4g at lr_A=%s lr_B=%s: lr_B/lr_A = %.3g\n", p.title, best.Loss, fmtLR(best.LRA), fmtLR(best.LRB), best.Ratio)
	}
	if err := writeFigure(c, lrs, res); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(summary, "", "  ")
	if err := weights.WriteFileAtomic(filepath.Join(c.out, "summary.json"), append(js, '\n')); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%.0f s)\n", c.out, summary.Seconds)
	return nil
}
