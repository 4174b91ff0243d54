package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// RSSSample is the resident memory after a number of training steps.
type RSSSample struct {
	Step  int     `json:"step"`
	RSSMB float64 `json:"rss_mb"`
	Secs  float64 `json:"seconds"` // since the first step began
}

// LongReport is what long.json holds.
type LongReport struct {
	Date      string      `json:"date"`
	Machine   Machine     `json:"machine"`
	Workload  string      `json:"workload"`
	Steps     int         `json:"steps"`
	Warmup    int         `json:"warmup"`
	Samples   []RSSSample `json:"samples"`
	Baseline  float64     `json:"baseline_rss_mb"` // the sample at the end of warm-up
	Final     float64     `json:"final_rss_mb"`
	Growth    float64     `json:"growth"` // (final − baseline) / baseline
	MaxGrowth float64     `json:"max_growth"`
	Passed    bool        `json:"passed"`
}

// Growth returns the baseline (the first sample at or after warmup steps), the last sample and the relative
// growth between them; ok is false when there is no sample after the baseline.
func Growth(samples []RSSSample, warmup int) (base, final, growth float64, ok bool) {
	bi := -1
	for i, s := range samples {
		if s.Step >= warmup {
			bi = i
			break
		}
	}
	if bi < 0 || bi == len(samples)-1 || samples[bi].RSSMB <= 0 {
		return 0, 0, 0, false
	}
	base, final = samples[bi].RSSMB, samples[len(samples)-1].RSSMB
	return base, final, (final - base) / base, true
}

// longMain trains the GPT-2-small shape for o.longSteps steps at a small batch, samples VmRSS every
// o.longEvery steps, writes long.json and fails when RSS grew by more than o.longMaxGrowth after warm-up.
func longMain(o *options) int {
	runtime.LockOSThread()
	if o.longEvery <= 0 || o.longSteps <= o.longWarmup {
		fmt.Fprintf(os.Stderr, "bench: -long-every must be > 0 and -long-steps (%d) above -long-warmup (%d)\n", o.longSteps, o.longWarmup)
		return 2
	}
	if err := nn.SetNumThreads(o.threads); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	w, err := gpt2Workload(WorkerOptions{Batch: o.longBatch, Seq: o.longSeq})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	rep := LongReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(o.threads), Steps: o.longSteps,
		Warmup: o.longWarmup, MaxGrowth: o.longMaxGrowth,
		Workload: fmt.Sprintf("GPT-2-small shape, LoRA r=8 c_attn/c_proj/c_fc + score, LoRA+ AdamW, B=%d T=%d", o.longBatch, o.longSeq)}
	fmt.Printf("long run: %s, %d steps, RSS every %d steps\n", rep.Workload, o.longSteps, o.longEvery)
	t0 := time.Now()
	for i := 1; i <= o.longSteps; i++ {
		if err := w.step(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: step %d: %v\n", i, err)
			return 1
		}
		if i%o.longEvery == 0 || i == o.longSteps {
			rss, err := statusMB("VmRSS")
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				return 1
			}
			s := RSSSample{Step: i, RSSMB: rss, Secs: time.Since(t0).Seconds()}
			rep.Samples = append(rep.Samples, s)
			fmt.Printf("step %5d  RSS %7.1f MiB  %6.0f s\n", s.Step, s.RSSMB, s.Secs)
		}
	}
	base, final, growth, ok := Growth(rep.Samples, o.longWarmup)
	if !ok {
		fmt.Fprintln(os.Stderr, "bench: too few RSS samples after warm-up")
		return 1
	}
	rep.Baseline, rep.Final, rep.Growth = base, final, growth
	rep.Passed = growth <= o.longMaxGrowth
	fmt.Printf("RSS after %d warm-up steps %.1f MiB, after %d steps %.1f MiB: %+.2f%% (limit %+.0f%%)\n",
		o.longWarmup, base, o.longSteps, final, 100*growth, 100*o.longMaxGrowth)
	if err := os.MkdirAll(o.outDir, 0o755); err == nil {
		path := filepath.Join(o.outDir, "long.json")
		if err := train.WriteJSON(path, rep); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Println("wrote", path)
	}
	if !rep.Passed {
		fmt.Println("FAIL: resident memory grew after warm-up")
		return 1
	}
	return 0
}
