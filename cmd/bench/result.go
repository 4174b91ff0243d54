package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Result is the JSON line one worker process prints: what one run of one workload measured.
type Result struct {
	Row       string  `json:"row"`              // workload name (gpt2, roberta, smollm2, mmlu)
	Stack     string  `json:"stack"`            // "go" (this project) or "python" (the peer)
	Steps     int     `json:"steps"`            // measured steps
	Warmup    int     `json:"warmup"`           // steps before the measured ones
	Threads   int     `json:"threads"`          // libtorch intra-op threads
	Seconds   float64 `json:"seconds"`          // wall time of the measured steps
	StepsPerS float64 `json:"steps_per_s"`      // measured steps per second
	ItemsPerS float64 `json:"items_per_s"`      // tokens (training rows) or prompts (mmlu) per second
	FirstStep float64 `json:"first_step_s"`     // seconds from process start to the end of the first step
	PeakRSSMB float64 `json:"peak_rss_mb"`      // peak resident set size (VmHWM), MiB
	LoadS     float64 `json:"load_s,omitempty"` // seconds to load the model (and wrap it), within first_step_s
	// PeakGPUMB is the most GPU memory nvidia-smi saw the process hold (CUDA context and caching allocator
	// included), sampled by the orchestrator every 100 ms; 0 on the CPU.
	PeakGPUMB float64 `json:"peak_gpu_mb,omitempty"`
	Device    string  `json:"device,omitempty"` // where the workload ran ("cpu" when empty)
	DType     string  `json:"dtype,omitempty"`  // the base weights' dtype ("float32" when empty)
	// CgoPerStep and TensorsPerStep count, for this project's worker only, the calls into C and the tensor
	// handles made per measured step.
	CgoPerStep     float64 `json:"cgo_calls_per_step,omitempty"`
	TensorsPerStep float64 `json:"tensors_per_step,omitempty"`
	Answers        string  `json:"answers,omitempty"`
	Error          string  `json:"error,omitempty"` // set when the workload could not run
}

// ParseResult finds the worker's JSON line in its standard output (the last line that starts with "{") and
// checks it: it names the expected row and stack, and its numbers are finite and positive.
func ParseResult(out, row, stack string) (Result, error) {
	var line string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "{") {
			line = l
		}
	}
	if line == "" {
		return Result{}, fmt.Errorf("%s worker of row %s printed no JSON line", stack, row)
	}
	var r Result
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Result{}, fmt.Errorf("%s worker of row %s: bad JSON line %q: %w", stack, row, line, err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("%s worker of row %s: %s", stack, row, r.Error)
	}
	if r.Row != row || r.Stack != stack {
		return r, fmt.Errorf("%s worker of row %s answered for row %q, stack %q", stack, row, r.Row, r.Stack)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"steps_per_s", r.StepsPerS}, {"items_per_s", r.ItemsPerS}, {"first_step_s", r.FirstStep}, {"peak_rss_mb", r.PeakRSSMB}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v <= 0 {
			return r, fmt.Errorf("%s worker of row %s: %s = %v, want a positive number", stack, row, f.name, f.v)
		}
	}
	return r, nil
}
