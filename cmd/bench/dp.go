package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

// grads returns the gradients of the trainable tensors (they must have one).
func grads(params []*ts.Tensor) []*ts.Tensor {
	out := make([]*ts.Tensor, len(params))
	for i, p := range params {
		out[i] = p.MustGrad(false)
	}
	return out
}

// DPRun is one run of -dp: one process with all the threads, or ranks of one thread each.
type DPRun struct {
	Ranks     int     `json:"ranks"`
	Threads   int     `json:"threads_per_rank"`
	StepsPerS float64 `json:"steps_per_s"`
	TokensS   float64 `json:"tokens_per_s"` // of the global batch
	PeakRSSMB float64 `json:"peak_rss_mb"`  // summed over the ranks
}

// DPReport is what dp.json holds.
type DPReport struct {
	Date     string  `json:"date"`
	Machine  Machine `json:"machine"`
	Workload string  `json:"workload"`
	Runs     []DPRun `json:"runs"`
	// OneMedian and RanksMedian are the median global tokens/s of each side; Ratio is RanksMedian/OneMedian.
	OneMedian, RanksMedian, Ratio float64
}

// dpMain compares data-parallel training on this machine with one process: the GPT-2-small-shaped training row
// at a global batch of -cls-batch, as 1 process × -threads threads and as -threads ranks × 1 thread (each rank a
// fresh worker process on its share of the batch, gradients averaged by loraplus/dist's all-reduce), alternating,
// -runs times each.
func dpMain(o *options) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	n := o.threads
	if n < 2 || o.clsBatch%n != 0 {
		fmt.Fprintf(os.Stderr, "bench: -dp needs -threads ≥ 2 dividing -cls-batch (%d, %d)\n", o.threads, o.clsBatch)
		return 2
	}
	rep := DPReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(o.threads),
		Workload: fmt.Sprintf("%s; global batch B=%d T=%d, %d warm-up + %d steps", rowTitles["gpt2"], o.clsBatch, o.clsSeq, o.warmup, o.steps)}
	timeout := time.Duration(o.timeoutS) * time.Second
	var one, ranks []float64
	for i := 0; i < o.runs; i++ {
		order := [][2]int{{1, n}, {n, 1}} // (ranks, threads each); which side goes first alternates
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, world := range order {
			r, err := dpRun(self, o, world[0], world[1], timeout)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench: -dp:", err)
				return 1
			}
			fmt.Fprintf(os.Stderr, "bench: dp run %d/%d: %d rank(s) × %d thread(s): %.4g steps/s, %.4g tokens/s, peak RSS %.0f MiB\n",
				i+1, o.runs, r.Ranks, r.Threads, r.StepsPerS, r.TokensS, r.PeakRSSMB)
			rep.Runs = append(rep.Runs, r)
			if r.Ranks == 1 {
				one = append(one, r.TokensS)
			} else {
				ranks = append(ranks, r.TokensS)
			}
		}
	}
	rep.OneMedian, rep.RanksMedian = Median(one), Median(ranks)
	rep.Ratio = Ratio(rep.RanksMedian, rep.OneMedian)
	fmt.Printf("%s\n%s\n1 process × %d threads: %.4g tokens/s; %d ranks × 1 thread: %.4g tokens/s; ranks/one = %.2f (medians of %d runs)\n",
		rep.Date, rep.Workload, n, rep.OneMedian, n, rep.RanksMedian, rep.Ratio, o.runs)
	path := filepath.Join(o.outDir, "dp.json")
	if err := os.MkdirAll(o.outDir, 0o755); err == nil {
		err = train.WriteJSON(path, rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Println("wrote", path)
	return 0
}

// dpRun runs the gpt2 worker as ranks processes of threads threads each, on shares of the global batch.
func dpRun(self string, o *options, ranks, threads int, timeout time.Duration) (DPRun, error) {
	w := WorkerOptions{Row: "gpt2", Batch: o.clsBatch / ranks, Seq: o.clsSeq, Warmup: o.warmup, Steps: o.steps, Threads: threads,
		Device: "cpu", DType: "float32"}
	var env []string
	if ranks > 1 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return DPRun{}, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		env = []string{"WORLD_SIZE=" + strconv.Itoa(ranks), "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + strconv.Itoa(port)}
	}
	cmds := make([]*exec.Cmd, ranks)
	outs := make([]*bytes.Buffer, ranks)
	for r := range ranks {
		cmd := exec.Command(self, w.Args()...)
		t := strconv.Itoa(threads)
		cmd.Env = append(os.Environ(), append(env, "RANK="+strconv.Itoa(r), "LOCAL_RANK="+strconv.Itoa(r),
			"OMP_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)...)
		outs[r] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[r], io.Discard
		if err := cmd.Start(); err != nil {
			return DPRun{}, err
		}
		cmds[r] = cmd
	}
	timer := time.AfterFunc(timeout, func() {
		for _, c := range cmds {
			_ = c.Process.Kill()
		}
	})
	defer timer.Stop()
	run := DPRun{Ranks: ranks, Threads: threads}
	for r, cmd := range cmds {
		err := cmd.Wait()
		res, perr := ParseResult(outs[r].String(), "gpt2", "go")
		if err != nil || perr != nil {
			return run, fmt.Errorf("rank %d of %d: %v %v", r, ranks, err, perr)
		}
		run.PeakRSSMB += res.PeakRSSMB
		if r == 0 {
			run.StepsPerS = res.StepsPerS
			run.TokensS = res.ItemsPerS * float64(ranks) // each rank trains its share
		}
	}
	return run, nil
}
