package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// WorkerOptions describe one workload run in a worker process; the orchestrator passes the same values to the
// Python peer.
type WorkerOptions struct {
	Row     string
	Batch   int
	Seq     int
	Warmup  int
	Steps   int
	Threads int
	GGUF    string // SmolLM2 GGUF file (smollm2, mmlu)
	Prompts string // PromptFile (mmlu)
	Device  string // cpu or cuda ("" is the CPU)
	DType   string // the base weights' dtype: float32 ("") or bfloat16
	Model   string // Hugging Face checkpoint directory (llama7b rows)
	// GradCkpt turns on gradient checkpointing (llama7b rows).
	GradCkpt bool
}

// dev and dtype resolve the options' device and dtype.
func (o WorkerOptions) dev() (gotch.Device, error)  { return nn.ParseDevice(cmp.Or(o.Device, "cpu")) }
func (o WorkerOptions) dtype() (gotch.DType, error) { return nn.ParseDType(cmp.Or(o.DType, "float32")) }

// devDType resolves both.
func devDType(o WorkerOptions) (gotch.Device, gotch.DType, error) {
	dev, err := o.dev()
	if err != nil {
		return dev, gotch.Float, err
	}
	dt, err := o.dtype()
	return dev, dt, err
}

// workload is a prepared benchmark: step runs one training step (or scores one prompt).
type workload struct {
	step    func() error
	perStep int           // tokens or prompts per step
	answers func() string // the mmlu row's predicted letters of the measured steps; nil elsewhere
}

// builders make each row's workload.
var builders = map[string]func(WorkerOptions) (*workload, error){
	"gpt2":        gpt2Workload,
	"roberta":     robertaWorkload,
	"smollm2":     smollm2Workload,
	"mmlu":        mmluWorkload,
	"llama7b-cls": llama7bWorkload,
	"llama7b-lm":  llama7bWorkload,
}

// runWorker builds and times one workload; errors come back in Result.Error.
func runWorker(o WorkerOptions, start time.Time) Result {
	r := Result{Row: o.Row, Stack: "go", Steps: o.Steps, Warmup: o.Warmup, Device: cmp.Or(o.Device, "cpu"),
		DType: cmp.Or(o.DType, "float32")}
	fail := func(err error) Result {
		r.Error = err.Error()
		return r
	}
	build, ok := builders[o.Row]
	if !ok {
		return fail(fmt.Errorf("unknown row %q", o.Row))
	}
	if o.Steps <= 0 || o.Warmup < 0 {
		return fail(fmt.Errorf("steps must be > 0 and warm-up >= 0, got %d and %d", o.Steps, o.Warmup))
	}
	if err := nn.SetNumThreads(o.Threads); err != nil {
		return fail(err)
	}
	r.Threads = nn.NumThreads()
	t0 := time.Now()
	w, err := build(o)
	if err != nil {
		return fail(err)
	}
	r.LoadS = time.Since(t0).Seconds()
	var first time.Duration
	step := func() error {
		if err := w.step(); err != nil {
			return err
		}
		if first == 0 {
			first = time.Since(start)
		}
		return nil
	}
	for i := 0; i < o.Warmup; i++ {
		if err := step(); err != nil {
			return fail(err)
		}
	}
	cgo0, tensors0 := runtime.NumCgoCall(), atomic.LoadInt64(&ts.TensorCount)
	t0 = time.Now()
	for i := 0; i < o.Steps; i++ {
		if err := step(); err != nil {
			return fail(err)
		}
	}
	r.Seconds = time.Since(t0).Seconds()
	r.CgoPerStep = float64(runtime.NumCgoCall()-cgo0) / float64(o.Steps)
	r.TensorsPerStep = float64(atomic.LoadInt64(&ts.TensorCount)-tensors0) / float64(o.Steps)
	r.StepsPerS = float64(o.Steps) / r.Seconds
	r.ItemsPerS = float64(o.Steps*w.perStep) / r.Seconds
	r.FirstStep = first.Seconds()
	if r.PeakRSSMB, err = statusMB("VmHWM"); err != nil {
		return fail(err)
	}
	if w.answers != nil {
		r.Answers = w.answers()
	}
	return r
}

// workerMain runs one workload in this process and prints its Result as one JSON line.
func workerMain(o WorkerOptions) int {
	runtime.LockOSThread() // libtorch's grad mode belongs to an OS thread
	start, err := processStart()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: process start time:", err)
	}
	r := runWorker(o, start)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	if r.Error != "" {
		return 1
	}
	return 0
}
