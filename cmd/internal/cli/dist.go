package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/loraplus-go/loraplus/loraplus/dist"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// JoinDist joins the data-parallel group that torchrun's variables describe (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT); it returns nil for a single process. The caller closes the group. With device
// "cuda" the group is NCCL's and, unless CUDA_VISIBLE_DEVICES is set, the rank sees only GPU LOCAL_RANK (as cuda:0):
// call it before anything touches CUDA.
func JoinDist(device string) (*dist.Group, error) {
	c, ok, err := dist.FromEnv()
	if err != nil || !ok {
		return nil, err
	}
	if device == "cuda" {
		c.Backend = "nccl"
		if os.Getenv("CUDA_VISIBLE_DEVICES") == "" {
			if err := os.Setenv("CUDA_VISIBLE_DEVICES", strconv.Itoa(c.LocalRank)); err != nil {
				return nil, err
			}
		}
	}
	if v := os.Getenv("LORAPLUS_DIST_TIMEOUT"); v != "" {
		if c.Timeout, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("LORAPLUS_DIST_TIMEOUT=%q: %w", v, err)
		}
	}
	return dist.Init(c)
}

// Launch runs this executable nproc times on this machine as the ranks of a data-parallel run, with args less
// its -nproc flag and torchrun's variables set (MASTER_ADDR 127.0.0.1, a free port), as `torchrun
// --nproc-per-node N --no-python` would. Rank 0's output passes through; the other ranks' lines come prefixed
// with "[rank R] ". When a rank fails, the others are stopped (SIGTERM, then SIGKILL after a grace period) and the
// error names the rank and how it ended; a run interrupted by Ctrl-C returns an error wrapping
// train.ErrInterrupted.
func Launch(nproc int, args []string, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("-nproc: finding a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args = dropFlag(args, "nproc")
	var mu sync.Mutex
	cmds := make([]*exec.Cmd, nproc)
	var pipes sync.WaitGroup
	for r := range nproc {
		cmd := exec.Command(self, args...)
		cmd.Env = append(os.Environ(), "RANK="+strconv.Itoa(r), "LOCAL_RANK="+strconv.Itoa(r), "WORLD_SIZE="+strconv.Itoa(nproc),
			"MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port))
		if r == 0 {
			cmd.Stdout, cmd.Stderr = stdout, stderr
		} else {
			out, err := cmd.StderrPipe()
			if err != nil {
				return err
			}
			cmd.Stdout = io.Discard
			pipes.Add(1)
			go func() {
				defer pipes.Done()
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					mu.Lock()
					fmt.Fprintf(stderr, "[rank %d] %s\n", r, sc.Text())
					mu.Unlock()
				}
			}()
		}
		if err := cmd.Start(); err != nil {
			for _, c := range cmds[:r] {
				_ = c.Process.Kill()
			}
			return fmt.Errorf("-nproc: starting rank %d: %w", r, err)
		}
		cmds[r] = cmd
	}
	type exit struct {
		rank int
		err  error
	}
	done := make(chan exit, nproc)
	for r, cmd := range cmds {
		go func() { done <- exit{r, cmd.Wait()} }()
	}
	var first *exit
	for range nproc {
		e := <-done
		if e.err != nil && first == nil {
			first = &e
			for r, c := range cmds { // stop the others: they would fail at their next collective anyway
				if r != e.rank {
					_ = c.Process.Signal(syscall.SIGTERM)
				}
			}
			go func() {
				time.Sleep(30 * time.Second)
				for _, c := range cmds {
					_ = c.Process.Kill()
				}
			}()
		}
	}
	pipes.Wait()
	if first == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(first.err, &ee) && ee.ExitCode() == ExitInterrupted {
		return fmt.Errorf("rank %d: %w", first.rank, train.ErrInterrupted)
	}
	return fmt.Errorf("rank %d of %d %s", first.rank, nproc, describeExit(first.err))
}

// describeExit says how a rank's process ended.
func describeExit(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("was killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

// dropFlag removes -name VALUE, -name=VALUE and their -- forms from args.
func dropFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case args[i] != a && a == name:
			i++ // its value
		case args[i] != a && strings.HasPrefix(a, name+"="):
		default:
			out = append(out, args[i])
		}
	}
	return out
}
