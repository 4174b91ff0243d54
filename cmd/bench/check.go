package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/roberta"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// The device check (-check) runs a few LoRA+ AdamW steps of one model in both stacks from the same start (the
// weights, batch and adapter factors scripts/reference/device_step.py writes) and compares what they give: the
// loss of every step, the gradient of every factor at step 1 and every factor after the last step. On a GPU
// it answers whether this project's CUDA path computes what its CPU path and PyTorch + PEFT on the same GPU do;
// on the CPU it is the same comparison with the CPU on both sides (the rehearsal of the GPU run).

// checkJob is device_step.py's job.json.
type checkJob struct {
	Kind    string   `json:"kind"`
	Targets []string `json:"targets"`
	R       int      `json:"r"`
	Alpha   float64  `json:"alpha"`
	LR      float64  `json:"lr"`
	Ratio   float64  `json:"ratio"`
	Steps   int      `json:"steps"`
	GGUF    string   `json:"gguf"`
}

// Tolerances of the check. fp32: 1e-4 on the loss and on every gradient entry, relative to the tensor's scale
// (max |x|, at least 1); the factors after the steps entry by entry too, but AdamW divides each gradient entry by
// its own running magnitude, so an entry whose gradient is at rounding level (a sum that cancels) steps by about
// ±lr whichever sign its rounding gave it: the check allows such entries up to 1e-3 of all factor entries
// (SmolLM2 on the CPU: 1.2e-4 of them, differing by up to 1.5e-2) and reports the largest difference beside. bf16 base weights (adapters fp32): the two stacks round at different points (PEFT casts the
// adapter's output back to bf16 before the residual add, libtorch's CPU and CUDA kernels accumulate bf16
// products differently), so the loss is held to 1e-2 relative, the step-1 gradients to 5e-2 in relative L2
// norm, and the factors' change over the steps to 0.25 in relative L2 norm (AdamW's first steps are near
// lr·sign(grad), so a gradient entry near zero can flip its update). A wrong learning rate of one group moves the
// factors' change by a factor of the ratio and fails all three.
const (
	tolFP32       = 1e-4
	tolFP32Off    = 1e-3
	tolBF16Loss   = 1e-2
	tolBF16Grad   = 0.1
	tolBF16Update = 0.3
)

// CheckRow is one comparison: stack "go" on Device against Ref ("python on cuda", "go on cpu").
type CheckRow struct {
	Kind   string  `json:"kind"`
	DType  string  `json:"dtype"`
	Device string  `json:"device"`
	Ref    string  `json:"ref"`
	Loss   float64 `json:"loss_err"`  // max over steps of |Δloss| / max(1, |loss|)
	Grad   float64 `json:"grad_err"`  // fp32: max |Δ| / max(1, max |ref|); bf16: max ‖Δ‖/‖ref‖
	Param  float64 `json:"param_err"` // fp32: the share of factor entries more than 1e-4 off; bf16: ‖Δchange‖/‖change‖
	// ParamMax is, in fp32, the largest factor difference as grad_err measures it.
	ParamMax float64 `json:"param_max"`
	Worst    string  `json:"worst"`  // the tensor with the largest error
	Passed   bool    `json:"passed"` // within the dtype's tolerances
	Error    string  `json:"error,omitempty"`
	Secs     float64 `json:"seconds"` // wall time of the Go run on Device
}

// CheckReport is what check.json holds.
type CheckReport struct {
	Date    string     `json:"date"`
	Machine Machine    `json:"machine"`
	Device  string     `json:"device"`
	Rows    []CheckRow `json:"rows"`
	Passed  bool       `json:"passed"`
}

// checkStep is the Go side of one check run (the -check-step worker): the job in dir on device with base
// weights in dtype, the results written to out under device_step.py's names.
func checkStep(dir, device, dtype, out string) error {
	runtime.LockOSThread()
	var job checkJob
	if err := readJSON(filepath.Join(dir, "job.json"), &job); err != nil {
		return err
	}
	dev, err := nn.ParseDevice(device)
	if err != nil {
		return err
	}
	dt, err := nn.ParseDType(dtype)
	if err != nil {
		return err
	}
	batch, _, err := weights.ReadSafetensors(filepath.Join(dir, "batch.safetensors"))
	if err != nil {
		return err
	}
	ids, mask := batch["ids"], batch["mask"]
	modelDir := filepath.Join(dir, "model")
	var model any
	var loss func() *ts.Tensor
	switch job.Kind {
	case "gpt2", "roberta":
		o := nn.ClassifierOptions{DType: dt, Device: dev, Seed: 1}
		var m nn.SequenceClassifier
		if job.Kind == "gpt2" {
			m, err = gpt2.Load(modelDir, o)
		} else {
			m, err = roberta.Load(modelDir, o)
		}
		if err != nil {
			return err
		}
		labels := batch["labels"].MustTo(dev, false)
		model, loss = m, func() *ts.Tensor {
			logits := m.Logits(ids, mask, false) // dropout off: the peer sets every dropout to 0
			if logits.DType() != gotch.Float {
				logits = logits.MustTotype(gotch.Float, true)
			}
			return logits.MustCrossEntropyLoss(labels, ts.None, ts.ReductionMean, -100, 0, true)
		}
	case "llama", "smollm2":
		path := modelDir
		if job.Kind == "smollm2" {
			path = job.GGUF
		}
		m, err := nnllama.Load(path, nnllama.Options{DType: dt, Device: dev})
		if err != nil {
			return err
		}
		model, loss = m, func() *ts.Tensor { return m.CausalLMLoss(ids, nil, ids, false) }
	default:
		return fmt.Errorf("%s: unknown kind %q", filepath.Join(dir, "job.json"), job.Kind)
	}
	cfg := loraplus.DefaultConfig(job.Targets...)
	cfg.Rank, cfg.Alpha, cfg.Dropout = job.R, job.Alpha, 0
	lm, err := loraplus.Wrap(model, cfg)
	if err != nil {
		return err
	}
	if err := lm.LoadTrainable(filepath.Join(dir, "init.safetensors")); err != nil {
		return err
	}
	oc := loraplus.DefaultOptimConfig(job.LR)
	oc.Ratio, oc.Beta1, oc.Beta2, oc.Eps, oc.WeightDecay = job.Ratio, 0.9, 0.999, 1e-8, 0
	opt, err := lm.NewAdamW(oc)
	if err != nil {
		return err
	}
	var res []nn.NamedTensor
	cpu := func(t *ts.Tensor) *ts.Tensor {
		return t.MustDetach(false).MustTotype(gotch.Float, true).MustTo(gotch.CPU, true).MustContiguous(true)
	}
	for k := 1; k <= job.Steps; k++ {
		if err := opt.ZeroGrad(); err != nil {
			return err
		}
		l := loss()
		l.MustBackward()
		res = append(res, nn.NamedTensor{Name: fmt.Sprintf("loss.%d", k), Tensor: cpu(l).MustView([]int64{1}, true)})
		l.MustDrop()
		if k == 1 {
			for _, p := range lm.Params {
				g := p.Tensor.MustGrad(false)
				res = append(res, nn.NamedTensor{Name: "grad.base_model.model." + p.Name, Tensor: cpu(g)})
				g.MustDrop()
			}
		}
		if err := opt.Step(1); err != nil {
			return err
		}
	}
	for _, p := range lm.Params {
		res = append(res, nn.NamedTensor{Name: "base_model.model." + p.Name, Tensor: cpu(p.Tensor)})
	}
	return weights.WriteSafetensors(out, res, map[string]string{"device": device, "dtype": dtype})
}

// readJSON decodes the JSON file path into v, naming the file in errors.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// compareCheck compares got with ref (both device_step.py's layout; init holds the factors before the steps)
// and fills the row's errors and verdict for its dtype.
func compareCheck(row *CheckRow, got, ref, init map[string]*ts.Tensor) {
	bf16 := row.DType == "bfloat16"
	worst := 0.0
	note := func(name string, e float64, dst *float64) {
		if e > *dst || math.IsNaN(e) {
			*dst = e
		}
		if e > worst || math.IsNaN(e) {
			worst, row.Worst = e, name
		}
	}
	var off, total float64 // fp32 factor entries beyond tolFP32, and all of them
	names := make([]string, 0, len(ref))
	for n := range ref {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g, ok := got[n]
		if !ok {
			row.Error = fmt.Sprintf("the Go run has no tensor %q", n)
			return
		}
		r := ref[n]
		if !nn.SameShape(g.MustSize(), r.MustSize()) {
			row.Error = fmt.Sprintf("tensor %q: shape %v, reference %v", n, g.MustSize(), r.MustSize())
			return
		}
		switch {
		case strings.HasPrefix(n, "loss."):
			a, b := g.Float64Values()[0], r.Float64Values()[0]
			note(n, math.Abs(a-b)/math.Max(1, math.Abs(b)), &row.Loss)
		case strings.HasPrefix(n, "grad."):
			if bf16 {
				note(n, relNorm(g, r), &row.Grad)
			} else {
				note(n, scaledMaxDiff(g, r), &row.Grad)
			}
		default:
			if bf16 {
				dg, dr := g.MustSub(init[n], false), r.MustSub(init[n], false)
				note(n, relNorm(dg, dr), &row.Param)
				dg.MustDrop()
				dr.MustDrop()
			} else {
				row.ParamMax = max(row.ParamMax, scaledMaxDiff(g, r))
				k, size := offEntries(g, r, tolFP32)
				off, total = off+k, total+size
				note(n, k/size, new(float64))
			}
		}
	}
	if bf16 {
		row.Passed = row.Loss <= tolBF16Loss && row.Grad <= tolBF16Grad && row.Param <= tolBF16Update
	} else {
		if total > 0 {
			row.Param = off / total
		}
		row.Passed = row.Loss <= tolFP32 && row.Grad <= tolFP32 && row.Param <= tolFP32Off
	}
}

// offEntries counts the entries of a farther than tol·max(1, max |b|) from b's, and all entries.
func offEntries(a, b *ts.Tensor, tol float64) (off, total float64) {
	s := math.Max(1, b.MustAbs(false).MustMax(true).Float64Values()[0])
	d := a.MustSub(b, false).MustAbs(true)
	k := d.MustGt(ts.FloatScalar(tol*s), true).MustSum(gotch.Double, true).Float64Values()[0]
	return k, float64(b.Numel())
}

// scaledMaxDiff is max |a − b| / max(1, max |b|).
func scaledMaxDiff(a, b *ts.Tensor) float64 {
	d := a.MustSub(b, false).MustAbs(true).MustMax(true).Float64Values()[0]
	s := b.MustAbs(false).MustMax(true).Float64Values()[0]
	return d / math.Max(1, s)
}

// relNorm is ‖a − b‖ / ‖b‖ (0 when both are zero).
func relNorm(a, b *ts.Tensor) float64 {
	d := a.MustSub(b, false).MustNorm(true).Float64Values()[0]
	n := b.MustNorm(false).Float64Values()[0]
	if n == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / n
}

// checkKinds are the models -check runs, in order.
var checkKinds = []string{"gpt2", "roberta", "llama", "smollm2"}

// checkMain runs the device check: for every kind, device_step.py makes the job; then, for fp32 and bf16 base
// weights, the peer and this project run it on -device, and on a GPU this project also on the CPU (fp32).
// It prints a table, writes OUT/check/check.json and returns 1 when a comparison fails.
func checkMain(o *options, w io.Writer) int {
	self, err := o.prepare()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	root := filepath.Join(o.outDir, "check")
	if err := os.MkdirAll(root, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	script := filepath.Join(filepath.Dir(o.peer), "device_step.py")
	timeout := time.Duration(o.timeoutS) * time.Second
	rep := CheckReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(o.threads), Device: o.device, Passed: true}
	for _, kind := range strings.Split(o.checkKinds, ",") {
		kind = strings.TrimSpace(kind)
		dir := filepath.Join(root, kind)
		fail := func(dtype, format string, a ...any) {
			row := CheckRow{Kind: kind, DType: dtype, Device: o.device, Error: fmt.Sprintf(format, a...)}
			rep.Rows, rep.Passed = append(rep.Rows, row), false
			fmt.Fprintf(os.Stderr, "bench: check %s %s: %s\n", kind, dtype, row.Error)
		}
		if !slices.Contains(checkKinds, kind) {
			fail("", "unknown kind (want %s)", strings.Join(checkKinds, ", "))
			continue
		}
		if kind == "smollm2" && o.gguf == "" {
			fail("", "SmolLM2 GGUF file not found (pass -gguf)")
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			fail("", "%v", err)
			continue
		}
		if err := runQuiet(timeout, o.threads, o.python, script, "make", kind, dir, "--gguf", o.gguf); err != nil {
			fail("", "device_step.py make: %v", err)
			continue
		}
		init, _, err := weights.ReadSafetensors(filepath.Join(dir, "init.safetensors"))
		if err != nil {
			fail("", "%v", err)
			continue
		}
		for _, dtype := range []string{"float32", "bfloat16"} {
			if dtype == "bfloat16" && o.device == "cpu" && kind == "smollm2" {
				// a 135M-parameter bf16 step on two CPU cores adds minutes and nothing the tiny models miss
				continue
			}
			py := filepath.Join(dir, fmt.Sprintf("python-%s-%s.safetensors", o.device, dtype))
			if err := runQuiet(timeout, o.threads, o.python, script, "step", dir, "--device", o.device, "--dtype", dtype, "--out", py); err != nil {
				fail(dtype, "device_step.py step: %v", err)
				continue
			}
			goRun := func(device string) (map[string]*ts.Tensor, float64, error) {
				path := filepath.Join(dir, fmt.Sprintf("go-%s-%s.safetensors", device, dtype))
				t0 := time.Now()
				err := runQuiet(timeout, o.threads, self, "-check-step", dir, "-device", device, "-dtype", dtype, "-dump", path)
				if err != nil {
					return nil, 0, err
				}
				secs := time.Since(t0).Seconds()
				m, _, err := weights.ReadSafetensors(path)
				return m, secs, err
			}
			got, secs, err := goRun(o.device)
			if err != nil {
				fail(dtype, "go on %s: %v", o.device, err)
				continue
			}
			ref, _, err := weights.ReadSafetensors(py)
			if err != nil {
				fail(dtype, "%v", err)
				continue
			}
			row := CheckRow{Kind: kind, DType: dtype, Device: o.device, Ref: "python on " + o.device, Secs: secs}
			compareCheck(&row, got, ref, init)
			rep.Rows = append(rep.Rows, row)
			if o.device != "cpu" && dtype == "float32" {
				cpu, _, err := goRun("cpu")
				if err != nil {
					fail(dtype, "go on cpu: %v", err)
					continue
				}
				row := CheckRow{Kind: kind, DType: dtype, Device: o.device, Ref: "go on cpu", Secs: secs}
				compareCheck(&row, got, cpu, init)
				rep.Rows = append(rep.Rows, row)
			}
		}
	}
	for _, r := range rep.Rows {
		rep.Passed = rep.Passed && r.Passed && r.Error == ""
	}
	writeCheckTable(w, rep)
	path := filepath.Join(root, "check.json")
	if err := train.WriteJSON(path, rep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Fprintln(w, "wrote", path)
	if !rep.Passed {
		return 1
	}
	return 0
}

// writeCheckTable prints the check's rows.
func writeCheckTable(w io.Writer, rep CheckReport) {
	fmt.Fprintf(w, "device check on %s, %s (%s): LoRA+ AdamW steps from one start, this project against a reference\n",
		rep.Device, rep.Date, rep.Machine)
	fmt.Fprintf(w, "tolerances: fp32 %.0e on the loss and every gradient entry, factors: at most %.0e of their entries beyond %.0e; "+
		"bf16 base: loss %.0e, gradients %.0e (rel. L2), factors' change %.2g (rel. L2)\n",
		tolFP32, tolFP32Off, tolFP32, tolBF16Loss, tolBF16Grad, tolBF16Update)
	fmt.Fprintf(w, "%-8s %-9s %-7s %-15s %10s %10s %10s  %-6s %s\n", "model", "dtype", "device", "reference", "loss", "grad", "factors", "result", "worst tensor")
	for _, r := range rep.Rows {
		verdict := "ok"
		if !r.Passed {
			verdict = "FAIL"
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%-8s %-9s %-7s %-15s %s\n", r.Kind, r.DType, r.Device, r.Ref, "ERROR "+r.Error)
			continue
		}
		fmt.Fprintf(w, "%-8s %-9s %-7s %-15s %10.2e %10.2e %10.2e  %-6s %s\n", r.Kind, r.DType, r.Device, r.Ref, r.Loss, r.Grad, r.Param, verdict, r.Worst)
	}
	if rep.Passed {
		fmt.Fprintln(w, "device check: passed")
	} else {
		fmt.Fprintln(w, "device check: FAILED")
	}
}

// runQuiet runs a helper process with the benchmark's thread settings, returning its stderr's last lines on failure.
func runQuiet(timeout time.Duration, threads int, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = childEnv(threads)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 3))
		}
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s ran past %v", filepath.Base(name), timeout)
	}
}
