// Command glue finetunes a GPT-2 or RoBERTa sequence classifier on a GLUE task (MNLI, QQP, SST-2, QNLI) with
// LoRA+, the settings of the LoRA+ paper's GLUE experiments as defaults:
//
//	go run ./cmd/glue -task mnli -model DIR -data DIR -ratio 16
//
// It prints the optimizer plan (which tensor trains at which learning rate), shows a progress bar, evaluates
// on the dev split(s) every -eval-every steps and at the end, and writes under -out: checkpoint-STEP/ (PEFT
// adapter with the head, optimizer state, trainer state), history.jsonl (one line per evaluation) and
// metrics.json. Ctrl-C finishes the step in flight, writes a checkpoint and exits with status 130; -resume
// latest continues the run exactly where it stopped.
//
// -sweep "lrA1,...:lrB1,..." (or -sweep-grid) trains every (lr_A, lr_B) cell and draws the accuracy heatmap
// (the paper's Figures 3-4); -compare trains ratio 1 against -ratio and draws accuracy over steps (Figure 7).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
)

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread: all gotch work stays on this goroutine
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run executes the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "glue:", err)
		return exitUsage
	}
	st := newStopper(stderr)
	defer st.close()
	err = dispatch(o, st, stdout, stderr)
	switch {
	case errors.Is(err, glue.ErrInterrupted):
		fmt.Fprintln(stderr, "glue:", err)
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, "glue:", err)
		return exitError
	}
	return exitOK
}

func dispatch(o *options, st *stopper, stdout, stderr io.Writer) error {
	if o.threads > 0 {
		if err := nn.SetNumThreads(o.threads); err != nil {
			return err
		}
	}
	s, err := newSession(o, stdout, stderr)
	if err != nil {
		return err
	}
	switch {
	case o.sweepA != nil || o.sweepGrid:
		return runSweep(s, st)
	case o.compare:
		return runCompare(s, st)
	}
	_, err = s.train(st, s.lr, o.ratio, o.out, o.resume, true)
	return err
}

// stopper turns SIGINT and SIGTERM into a Stop of the trainer that is running; a second signal exits at once.
type stopper struct {
	mu      sync.Mutex
	current *glue.Trainer
	stopped bool
	ch      chan os.Signal
	done    chan struct{}
}

func newStopper(stderr io.Writer) *stopper {
	s := &stopper{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for {
			select {
			case <-s.done:
				return
			case sig := <-s.ch:
				s.mu.Lock()
				again := s.stopped
				s.stopped = true
				tr := s.current
				s.mu.Unlock()
				if again {
					fmt.Fprintf(stderr, "\nglue: %v again: exiting without a checkpoint\n", sig)
					os.Exit(exitInterrupted)
				}
				fmt.Fprintf(stderr, "\nglue: %v: finishing this step and writing a checkpoint (press again to quit at once)\n", sig)
				if tr != nil {
					tr.Stop()
				}
			}
		}
	}()
	return s
}

// run registers tr as the running trainer (stopping it at once when a signal came earlier) and runs it.
func (s *stopper) run(tr *glue.Trainer) (*glue.Result, error) {
	s.mu.Lock()
	s.current = tr
	if s.stopped {
		tr.Stop()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.current = nil
		s.mu.Unlock()
	}()
	return tr.Run(context.Background())
}

func (s *stopper) close() {
	signal.Stop(s.ch)
	close(s.done)
}

// pickDevice resolves -device.
func pickDevice(name string) (gotch.Device, error) {
	switch name {
	case "cpu":
		return gotch.CPU, nil
	case "cuda":
		d := gotch.CudaIfAvailable()
		if d == gotch.CPU {
			return d, fmt.Errorf("-device cuda: libtorch sees no CUDA device")
		}
		return d, nil
	}
	return gotch.CudaIfAvailable(), nil
}
