// Package dist runs a LoRA+ trainer data-parallel over several processes through libtorch's own torch.distributed
// (c10d): a TCPStore rendezvous and a Gloo process group (package dist of the generated gotch copy, built from
// scripts/c10d). A process learns its place from the variables torchrun sets (FromEnv), joins the group (Init), and
// averages the adapters' gradients over the ranks before clipping and the optimizer step (AllReduceMean): only
// the adapters, a few MB, cross the network.
//
// Errors start with "dist: ". A rank that dies makes the others' next collective fail (its connection closes), and
// a rank that stops answering makes it fail after Config.Timeout, so no rank hangs.
package dist

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sugarme/gotch"
	gdist "github.com/sugarme/gotch/dist"
	"github.com/sugarme/gotch/ts"
)

// Config is one process's place in a data-parallel run.
type Config struct {
	Rank      int    // 0 … WorldSize−1; rank 0 serves the store, writes checkpoints and logs
	WorldSize int    // number of processes
	LocalRank int    // rank on this machine (the GPU index under torchrun)
	Addr      string // host of rank 0's store (MASTER_ADDR)
	Port      int    // its port (MASTER_PORT)
	// Timeout bounds the rendezvous and every collective (default 5 minutes).
	Timeout time.Duration
	// Backend is "gloo" (the default: tensors on the CPU) or "nccl" (tensors on the GPU; a CUDA build only).
	Backend string
	// AgentStore: the store at Addr:Port is served by torchrun's agent (TORCHELASTIC_USE_AGENT_STORE=True), so rank
	// 0 joins it as a client too, and StorePrefix ("/worker/attempt_N", N = TORCHELASTIC_RESTART_COUNT) keeps this
	// run's keys apart, as torch.distributed's env:// rendezvous does.
	AgentStore  bool
	StorePrefix string
}

// FromEnv reads the variables torchrun sets: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. ok is
// false without WORLD_SIZE, or with WORLD_SIZE 1 and no RANK (a single process; torchrun with one process sets
// RANK=0 and makes a world of one); a malformed or missing variable is an error naming it.
func FromEnv() (c Config, ok bool, err error) {
	ws := os.Getenv("WORLD_SIZE")
	if ws == "" || ws == "1" && os.Getenv("RANK") == "" {
		return Config{WorldSize: 1}, false, nil
	}
	num := func(name string, dflt string) (int, error) {
		v := os.Getenv(name)
		if v == "" {
			v = dflt
		}
		if v == "" {
			return 0, fmt.Errorf("dist: WORLD_SIZE=%s but %s is not set", ws, name)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("dist: %s=%q is not a non-negative integer", name, v)
		}
		return n, nil
	}
	if c.WorldSize, err = num("WORLD_SIZE", ""); err != nil {
		return c, false, err
	}
	if c.Rank, err = num("RANK", ""); err != nil {
		return c, false, err
	}
	if c.LocalRank, err = num("LOCAL_RANK", "0"); err != nil {
		return c, false, err
	}
	if c.Port, err = num("MASTER_PORT", ""); err != nil {
		return c, false, err
	}
	if c.Addr = os.Getenv("MASTER_ADDR"); c.Addr == "" {
		return c, false, fmt.Errorf("dist: WORLD_SIZE=%s but MASTER_ADDR is not set", ws)
	}
	if os.Getenv("TORCHELASTIC_USE_AGENT_STORE") == "True" {
		c.AgentStore = true
		c.StorePrefix = "/worker/attempt_" + cmp.Or(os.Getenv("TORCHELASTIC_RESTART_COUNT"), "0")
	}
	return c, true, c.check()
}

func (c Config) check() error {
	if c.WorldSize < 1 || c.Rank < 0 || c.Rank >= c.WorldSize {
		return fmt.Errorf("dist: rank %d is not in a world of %d", c.Rank, c.WorldSize)
	}
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("dist: port %d is out of range", c.Port)
	}
	return nil
}

// Group is this process's membership of the run's process group.
type Group struct {
	Config
	g   *gdist.Group
	dev gotch.Device // where the backend takes its tensors: the CPU for Gloo, cuda:0 (this rank's GPU) for NCCL
}

// Init joins the group: rank 0 serves the store on Addr:Port and every rank waits up to Timeout for the others.
func Init(c Config) (*Group, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.Backend == "" {
		c.Backend = "gloo"
	}
	g, err := gdist.New(c.Backend, c.Addr, c.Port, c.Rank, c.WorldSize, c.Timeout, c.AgentStore, c.StorePrefix)
	if err != nil {
		return nil, fmt.Errorf("dist: rank %d of %d joining %s:%d (%s): %w", c.Rank, c.WorldSize, c.Addr, c.Port, c.Backend, err)
	}
	dev := gotch.CPU
	if c.Backend == "nccl" {
		dev = gotch.CudaBuilder(0)
	}
	return &Group{Config: c, g: g, dev: dev}, nil
}

// IsMain reports whether this is rank 0, the one that writes checkpoints, logs and figures.
func (g *Group) IsMain() bool { return g.Rank == 0 }

// AllReduceMean replaces every tensor (fp32, on the CPU) by its mean over the ranks. The tensors travel as one
// flat buffer in one all-reduce, whatever their number and shapes.
func (g *Group) AllReduceMean(tensors []*ts.Tensor) error {
	return g.allReduce(tensors, 1/float64(g.WorldSize))
}

// AllReduceSum replaces every tensor (fp32, on the CPU) by its sum over the ranks, as one flat buffer.
func (g *Group) AllReduceSum(tensors []*ts.Tensor) error { return g.allReduce(tensors, 1) }

// Broadcast copies rank 0's tensors (fp32, on the CPU) into every rank's, as one flat buffer.
func (g *Group) Broadcast(tensors []*ts.Tensor) error { return g.collective(tensors, 0, true) }

func (g *Group) allReduce(tensors []*ts.Tensor, scale float64) error {
	return g.collective(tensors, scale, false)
}

// collective runs one all-reduce (sum, then times scale) or one broadcast from rank 0 over the tensors flattened
// into one buffer, and copies the result back.
func (g *Group) collective(tensors []*ts.Tensor, scale float64, broadcast bool) error {
	if len(tensors) == 0 {
		return nil
	}
	flat := make([]*ts.Tensor, len(tensors))
	for i, t := range tensors {
		if t.DType() != gotch.Float {
			return fmt.Errorf("dist: all-reduce of a %v tensor (want float32)", t.DType())
		}
		flat[i] = t.MustReshape([]int64{-1}, false)
	}
	buf := ts.MustCat(flat, 0)
	for _, f := range flat {
		f.MustDrop()
	}
	if buf.MustDevice().CInt() != g.dev.CInt() { // the tensors' device is not the backend's: the buffer travels
		buf = buf.MustTo(g.dev, true)
	}
	defer buf.MustDrop()
	if broadcast {
		if err := g.g.Broadcast(buf, 0); err != nil {
			return fmt.Errorf("dist: rank %d: broadcast: %w", g.Rank, err)
		}
	} else {
		if err := g.g.AllReduceSum(buf); err != nil {
			return fmt.Errorf("dist: rank %d: all-reduce: %w", g.Rank, err)
		}
		if scale != 1 {
			buf.MustMulScalar_(ts.FloatScalar(scale))
		}
	}
	var off int64
	for _, t := range tensors {
		n := int64(t.Numel())
		part := buf.MustNarrow(0, off, n, false).MustView(t.MustSize(), true)
		dst := t.MustDetach(false)
		dst.Copy_(part)
		dst.MustDrop()
		part.MustDrop()
		off += n
	}
	return nil
}

// CheckSame fails on every rank unless all ranks passed the same value for each name (their training settings,
// their data's fingerprint), naming the first that differs from rank 0's.
func (g *Group) CheckSame(names []string, values []string) error {
	if len(names) != len(values) {
		return fmt.Errorf("dist: CheckSame: %d names, %d values", len(names), len(values))
	}
	for i, name := range names {
		sum := sha256.Sum256([]byte(values[i]))
		mine := make([]float32, len(sum)) // bytes are exact in fp32
		for j, b := range sum {
			mine[j] = float32(b)
		}
		t, ref := ts.MustOfSlice(mine), ts.MustOfSlice(mine)
		err := g.Broadcast([]*ts.Tensor{ref})
		same := err == nil && t.MustEqual(ref, false)
		t.MustDrop()
		ref.MustDrop()
		if err != nil {
			return err
		}
		// every rank learns whether any rank differs: the sum of the mismatch flags
		flag := ts.MustOfSlice([]float32{0})
		if !same {
			flag.MustFill_(ts.FloatScalar(1))
		}
		err = g.AllReduceSum([]*ts.Tensor{flag})
		bad := flag.Float64Values()[0]
		flag.MustDrop()
		if err != nil {
			return err
		}
		if bad > 0 {
			if !same {
				return fmt.Errorf("dist: rank %d's %s (%s) differs from rank 0's", g.Rank, name, values[i])
			}
			return fmt.Errorf("dist: %d rank(s) have another %s than rank 0's (%s)", int(bad), name, values[i])
		}
	}
	return nil
}

// Barrier returns when every rank has reached it.
func (g *Group) Barrier() error {
	if err := g.g.Barrier(); err != nil {
		return fmt.Errorf("dist: rank %d: barrier: %w", g.Rank, err)
	}
	return nil
}

// Close leaves the group.
func (g *Group) Close() { g.g.Close() }
