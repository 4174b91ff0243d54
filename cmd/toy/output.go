package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/loraplus-go/loraplus/cmd/internal/plot"
	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// panel is one of the four heatmaps of Figure 2.
type panel struct {
	file, title string
	pick        func(losses) float64
}

var panels = []panel{
	{"train_early", "train loss, early", func(l losses) float64 { return l.trainEarly }},
	{"test_early", "test loss, early", func(l losses) float64 { return l.testEarly }},
	{"train_final", "train loss, converged", func(l losses) float64 { return l.trainFinal }},
	{"test_final", "test loss, converged", func(l losses) float64 { return l.testFinal }},
}

// results holds the losses of every run: [seed][iB][iA].
type results [][][]losses

// grid averages a panel's loss over seeds: Z[iB][iA]. A cell where any seed diverged is NaN.
func (r results) grid(p panel) [][]float64 {
	k := len(r[0])
	z := make([][]float64, k)
	for ib := range z {
		z[ib] = make([]float64, k)
		for ia := range z[ib] {
			s := 0.0
			for _, seed := range r {
				s += p.pick(seed[ib][ia])
			}
			z[ib][ia] = s / float64(len(r))
		}
	}
	return z
}

func sweep(c config, lrs []float64, bar *progress.Bar) (results, error) {
	res := make(results, c.seeds)
	done := 0
	for seed := range res {
		s := newSetup(c, uint64(seed+1))
		res[seed] = make([][]losses, len(lrs))
		for ib, lrB := range lrs {
			res[seed][ib] = make([]losses, len(lrs))
			for ia, lrA := range lrs {
				l, err := run(c, s, uint64(seed+1), lrA, lrB)
				if err != nil {
					return nil, err
				}
				res[seed][ib][ia] = l
				done++
				bar.Set(done, fmt.Sprintf("seed %d lr_A=%s lr_B=%s", seed+1, fmtLR(lrA), fmtLR(lrB)))
			}
		}
	}
	bar.Done()
	return res, nil
}

// bestCell is the best run of a panel.
type bestCell struct {
	Panel    string  `json:"panel"`
	Loss     float64 `json:"loss"`
	LRA      float64 `json:"lr_A"`
	LRB      float64 `json:"lr_B"`
	Ratio    float64 `json:"ratio"`
	Diagonal float64 `json:"best_on_diagonal_loss"` // best loss with lr_A = lr_B
}

type summary struct {
	Config  map[string]any `json:"config"`
	LRs     []float64      `json:"lrs"`
	Panels  []bestCell     `json:"panels"`
	Seconds float64        `json:"seconds"`
}

func describe(c config) map[string]any {
	return map[string]any{"d": c.d, "n": c.n, "r": c.r, "train": c.trainSize, "test": c.testSize,
		"steps": c.steps, "early": c.early, "grid": c.grid, "lr_min": c.lrMin, "lr_max": c.lrMax,
		"seeds": c.seeds, "init": c.init.String(), "optimizer": "full-batch gradient descent"}
}

func heatmap(p panel, lrs []float64, z [][]float64) *plot.Heatmap {
	h := &plot.Heatmap{
		Title: p.title, XLabel: "η_A", YLabel: "η_B", X: lrs, Y: lrs, Z: z,
		LowerIsBetter: true, LogAxes: true, Diagonal: true, ColorbarLabel: "MSE loss",
		Marks: plot.NearBest(z, true, 0.01), MarksLabel: "within 1% of best", HideValues: len(lrs) > 12,
	}
	if b, ok := plot.BestCell(z, true); ok {
		h.Best = &b
	}
	return h
}

func writePanel(c config, p panel, lrs []float64, z [][]float64) (bestCell, error) {
	var csv strings.Builder
	csv.WriteString("lr_A,lr_B,ratio,loss\n")
	for ib, lrB := range lrs {
		for ia, lrA := range lrs {
			fmt.Fprintf(&csv, "%g,%g,%g,%g\n", lrA, lrB, lrB/lrA, z[ib][ia])
		}
	}
	if err := weights.WriteFileAtomic(filepath.Join(c.out, p.file+".csv"), []byte(csv.String())); err != nil {
		return bestCell{}, err
	}
	if err := heatmap(p, lrs, z).WritePNG(filepath.Join(c.out, p.file+".png")); err != nil {
		return bestCell{}, err
	}
	b := bestCell{Panel: p.file, Loss: math.NaN(), Diagonal: math.Inf(1)}
	if cell, ok := plot.BestCell(z, true); ok {
		ib, ia := cell[0], cell[1]
		b.Loss, b.LRA, b.LRB, b.Ratio = z[ib][ia], lrs[ia], lrs[ib], lrs[ib]/lrs[ia]
	}
	for i := range lrs {
		if v := z[i][i]; v < b.Diagonal {
			b.Diagonal = v
		}
	}
	return b, nil
}

// writeFigure draws the four panels in a 2×2 figure (the layout of the paper's Figure 2).
func writeFigure(c config, lrs []float64, res results) error {
	var figs []plot.Figure
	for _, p := range panels {
		figs = append(figs, heatmap(p, lrs, res.grid(p)))
	}
	return plot.WriteGridPNG(filepath.Join(c.out, "figure2.png"), 2, figs...)
}
