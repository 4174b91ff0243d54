package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus/dist"
)

// distConfig is the data-parallel tests' run: 37 examples in steps of 8 (two micro-batches of 4), so that an
// epoch's last step has 5 examples, shared 2 and 3 by two ranks; dropout 0, so that the ranks' sum is exact.
func distConfig(out string) Config {
	cfg := toyConfig(out)
	cfg.BatchSize, cfg.GradAccum, cfg.Epochs, cfg.ClipNorm, cfg.EvalEvery = 4, 2, 2, 1, 4
	return cfg
}

// TestDistRank is one rank of a data-parallel run when DIST_TRAIN_OUT is set (the tests below start this
// binary as the ranks): it trains distConfig and prints its trainable tensors as one JSON line.
func TestDistRank(t *testing.T) {
	out := os.Getenv("DIST_TRAIN_OUT")
	if out == "" {
		return
	}
	runtime.LockOSThread()
	c, ok, err := dist.FromEnv()
	require.NoError(t, err)
	require.True(t, ok)
	c.Timeout = 20 * time.Second
	g, err := dist.Init(c)
	require.NoError(t, err)
	defer g.Close()
	cfg := distConfig(out)
	cfg.Dist, cfg.Resume, cfg.Log = g, os.Getenv("DIST_TRAIN_RESUME"), os.Stdout
	seed := uint64(5)
	if c.Rank == 1 && os.Getenv("DIST_TRAIN_OTHER_DATA_ON_RANK1") != "" {
		seed = 6 // the same number of examples, other values
	}
	k := newToyTask(37, seed)
	s, err := New(wrapToy(t, k, 0), fingerprinted{toyEval{k}}, cfg)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	if at, _ := strconv.Atoi(os.Getenv("DIST_TRAIN_STOP_RANK1_AT")); at > 0 && c.Rank == 1 {
		s.cfg.OnStep = func(step int, _ float64) {
			if step == at {
				s.Stop()
			}
		}
	}
	_, err = s.Run(context.Background())
	if errors.Is(err, ErrInterrupted) {
		fmt.Printf("interrupted at %d\n", s.State().Step)
	} else {
		require.NoError(t, err)
	}
	b, err := json.Marshal(trainable(s))
	require.NoError(t, err)
	fmt.Printf("TRAINABLE %s\n", b)
}

// fingerprinted is the toy task with a DataFingerprint of its inputs' bits.
type fingerprinted struct{ toyEval }

func (f fingerprinted) DataFingerprint() string {
	return Fingerprint(func(add func(...int)) {
		for _, v := range f.x.MustView([]int64{-1}, false).Float64Values(true) {
			add(int(math.Float32bits(float32(v))))
		}
	})
}

// A rank whose training examples differ (same number, other values) is refused on every rank, naming the data.
func TestDataParallelRefusesOtherData(t *testing.T) {
	_, text := ranksRaw(t, 2, "DIST_TRAIN_OUT="+t.TempDir(), "DIST_TRAIN_OTHER_DATA_ON_RANK1=1")
	assert.Contains(t, text[1], "ERROR train: dist: rank 1's training data")
	assert.Contains(t, text[0], "ERROR train: dist: 1 rank(s) have another training data than rank 0's")
}

// ranks runs TestDistRank on n ranks over 127.0.0.1 with env added and returns each rank's trainable tensors and
// output.
func ranks(t *testing.T, n int, env ...string) ([]map[string][]float64, []string) {
	t.Helper()
	res, text := ranksRaw(t, n, env...)
	for r := range res {
		require.NotNil(t, res[r], "rank %d: %s", r, text[r])
	}
	return res, text
}

// ranksRaw is ranks without requiring a result from each rank.
func ranksRaw(t *testing.T, n int, env ...string) ([]map[string][]float64, []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmds, outs := make([]*exec.Cmd, n), make([]*bytes.Buffer, n)
	for r := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDistRank$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), env...), "RANK="+strconv.Itoa(r), "LOCAL_RANK="+strconv.Itoa(r),
			"WORLD_SIZE="+strconv.Itoa(n), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port), "OMP_NUM_THREADS=1")
		outs[r] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[r], outs[r]
		require.NoError(t, cmd.Start())
		cmds[r] = cmd
	}
	res, text := make([]map[string][]float64, n), make([]string, n)
	for r, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "rank %d: %s", r, outs[r])
		text[r] = outs[r].String()
		i := strings.Index(text[r], "TRAINABLE ")
		if i < 0 {
			continue
		}
		line := text[r][i+len("TRAINABLE "):]
		line = line[:strings.IndexByte(line, '\n')]
		require.NoError(t, json.Unmarshal([]byte(line), &res[r]))
	}
	return res, text
}

// oneProcess trains distConfig in this process and returns its trainable tensors.
func oneProcess(t *testing.T, out, resume string) map[string][]float64 {
	cfg := distConfig(out)
	cfg.Resume = resume
	k := newToyTask(37, 5)
	s := newToySession(t, k, toyEval{k}, cfg, 0)
	_, err := s.Run(context.Background())
	require.NoError(t, err)
	return trainable(s)
}

func requireSameTensors(t *testing.T, want, got map[string][]float64, tol float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for name, w := range want {
		g := got[name]
		require.Len(t, g, len(w), "%s: %s", what, name)
		for i := range w {
			require.InDelta(t, w[i], g[i], tol, "%s: %s[%d]", what, name, i)
		}
	}
}

// Two ranks, each on its share of every step, train the adapters a single process trains on the whole steps
// (1e-6); rank 0 alone writes the output folder.
func TestDataParallelEqualsOneProcess(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	one := t.TempDir()
	want := oneProcess(t, one, "")
	out := t.TempDir()
	got, text := ranks(t, 2, "DIST_TRAIN_OUT="+out)
	for r := range got {
		requireSameTensors(t, want, got[r], 1e-6, fmt.Sprintf("rank %d", r))
	}
	// the losses too: AdamW and clipping would hide gradients summed at the wrong scale, the loss does not
	h1, h2 := runFile(t, one, HistoryFile), runFile(t, out, HistoryFile)
	require.Len(t, h2, len(h1))
	for i := range h1 {
		assert.InEpsilon(t, h1[i]["train_loss"], h2[i]["train_loss"], 1e-6, "history %d", i)
	}
	m1, m2 := runFile(t, one, MetricsFile)[0], runFile(t, out, MetricsFile)[0]
	assert.InEpsilon(t, m1["train_loss"], m2["train_loss"], 1e-6)
	assert.InEpsilon(t, m1["last_loss"], m2["last_loss"], 1e-6)
	for _, f := range []string{MetricsFile, HistoryFile, CheckpointDir(out, 10)} {
		_, err := os.Stat(f)
		if !strings.HasPrefix(f, out) {
			_, err = os.Stat(out + "/" + f)
		}
		assert.NoError(t, err, "%s written by rank 0", f)
	}
	assert.Contains(t, text[0], "eval step 4")
	assert.NotContains(t, text[1], "eval step", "rank 1 prints nothing")
}

// A stop on rank 1 stops both ranks after the same step, rank 0 writes the checkpoint, and the run resumes from
// it with one process or two, ending where the uninterrupted run ends.
func TestDataParallelStopAndResume(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	want := oneProcess(t, t.TempDir(), "")
	for _, world := range []int{1, 2} {
		t.Run(fmt.Sprintf("resume on %d", world), func(t *testing.T) {
			out := t.TempDir()
			_, text := ranks(t, 2, "DIST_TRAIN_OUT="+out, "DIST_TRAIN_STOP_RANK1_AT=5")
			for r := range text {
				assert.Contains(t, text[r], "interrupted at 6", "rank %d stops after the step that shared the stop", r)
			}
			if world == 1 {
				requireSameTensors(t, want, oneProcess(t, out, "latest"), 1e-6, "resumed in one process")
				return
			}
			got, _ := ranks(t, 2, "DIST_TRAIN_OUT="+out, "DIST_TRAIN_RESUME=latest")
			requireSameTensors(t, want, got[1], 1e-6, "resumed on two ranks")
		})
	}
}
