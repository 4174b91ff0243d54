package train

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultPauseEnv names the environment variable of the fault-injection tests (cmd/internal/faulttest). A test
// cannot SIGKILL a tiny run at an exact moment by timing alone (its steps and checkpoints take milliseconds), so a
// run started with LORAPLUS_FAULT_PAUSE=POINT:STEP (or POINT:STEP:N) prints the line
//
//	fault pause: POINT at step STEP
//
// on stderr and sleeps until it is killed, the N-th time (the first by default) one of its sessions reaches POINT
// at optimizer step STEP; N counts across the runs of one process (the cells of a sweep). The points:
//
//	step                  inside the step that ends at STEP: gradients computed, the update not applied
//	checkpoint-adapter    checkpoint-STEP's adapter files written into its temporary folder
//	checkpoint-optimizer  its optimizer state written too
//	checkpoint-state      its trainer state written too (all files there, the folder not yet renamed)
//	checkpoint-renamed    checkpoint-STEP in place, older checkpoints not yet pruned
//	metrics               the run finished at STEP, metrics.json not yet written
//
// In a data-parallel run, LORAPLUS_FAULT_RANK=R restricts the pause to rank R (the RANK variable), and the line
// ends with " (pid PID)" so that a test can kill that rank.
//
// Unset, it costs one environment lookup per process.
const FaultPauseEnv = "LORAPLUS_FAULT_PAUSE"

var fault struct {
	once  sync.Once
	point string
	step  int
	nth   int
	mu    sync.Mutex
	seen  int
}

// FaultPoint pauses the process for good when FaultPauseEnv names this point and step (see there). Sessions
// of this module call it; a malformed value is reported once on stderr and ignored.
func FaultPoint(point string, step int) {
	fault.once.Do(func() {
		v := os.Getenv(FaultPauseEnv)
		if v == "" {
			return
		}
		if r := os.Getenv("LORAPLUS_FAULT_RANK"); r != "" && r != os.Getenv("RANK") {
			return
		}
		parts := strings.Split(v, ":")
		ok := len(parts) == 2 || len(parts) == 3
		fault.nth = 1
		if ok {
			fault.point = parts[0]
			var err error
			fault.step, err = strconv.Atoi(parts[1])
			ok = err == nil
			if ok && len(parts) == 3 {
				fault.nth, err = strconv.Atoi(parts[2])
				ok = err == nil && fault.nth > 0
			}
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "%s=%q: want POINT:STEP or POINT:STEP:N; ignored\n", FaultPauseEnv, v)
			fault.point = ""
		}
	})
	if fault.point == "" || point != fault.point || step != fault.step {
		return
	}
	fault.mu.Lock()
	fault.seen++
	hit := fault.seen == fault.nth
	fault.mu.Unlock()
	if !hit {
		return
	}
	if os.Getenv("LORAPLUS_FAULT_RANK") != "" {
		fmt.Fprintf(os.Stderr, "\nfault pause: %s at step %d (pid %d)\n", point, step, os.Getpid())
	} else {
		fmt.Fprintf(os.Stderr, "\nfault pause: %s at step %d\n", point, step)
	}
	for {
		time.Sleep(time.Hour)
	}
}
