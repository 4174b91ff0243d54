package faulttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// finalAdapter reads the trained tensors of a run's checkpoint-STEP.
func finalAdapter(t *testing.T, out string, step int) map[string][]float64 {
	t.Helper()
	m, _, err := weights.ReadSafetensors(filepath.Join(train.CheckpointDir(out, step), "adapter_model.safetensors"))
	require.NoError(t, err)
	res := map[string][]float64{}
	for name, ts := range m {
		res[name] = ts.MustView([]int64{-1}, true).Float64Values(true)
	}
	return res
}

func requireSameAdapter(t *testing.T, want, got map[string][]float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, "%s: %s missing", what, name)
		for i := range w {
			require.InDelta(t, w[i], g[i], 1e-6, "%s: %s[%d]", what, name, i)
		}
	}
}

// evalMetrics returns the eval_ metrics of every entry of a run's history.jsonl.
func evalMetrics(t *testing.T, out string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, train.HistoryFile))
	require.NoError(t, err)
	var res []map[string]any
	for _, e := range normalize(t, data, out) {
		m := map[string]any{}
		for k, v := range e.(map[string]any)["metrics"].(map[string]any) {
			if strings.HasPrefix(k, "eval_") {
				m[k] = v
			}
		}
		res = append(res, m)
	}
	return res
}

// killRank starts a data-parallel run, kills the rank whose fault pause (train.FaultPauseEnv restricted to
// rank by LORAPLUS_FAULT_RANK) reports its pid, and returns how the launcher ended and its stderr.
func killRank(t *testing.T, rank int, pause, name string, args ...string) (result, time.Duration) {
	t.Helper()
	cmd := exec.Command(filepath.Join(fx.bin, name), args...)
	cmd.Env = append(os.Environ(), train.FaultPauseEnv+"="+pause, "LORAPLUS_FAULT_RANK="+strconv.Itoa(rank),
		"LORAPLUS_DIST_TIMEOUT=60s")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(3*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	pid := regexp.MustCompile(`fault pause: .* \(pid (\d+)\)`)
	var log strings.Builder
	var killedAt time.Time
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := pid.FindStringSubmatch(sc.Text()); m != nil && killedAt.IsZero() {
			p, _ := strconv.Atoi(m[1])
			require.NoError(t, syscall.Kill(p, syscall.SIGKILL))
			killedAt = time.Now()
		}
	}
	err = cmd.Wait()
	require.False(t, killedAt.IsZero(), "rank %d never paused at %s:\n%s", rank, pause, log.String())
	r := result{stderr: log.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	}
	return r, time.Since(killedAt)
}

// withoutDropout returns args with the tiny GPT-2 replaced by a copy whose dropout probabilities are 0: with
// dropout the ranks draw other masks than one process does, so their runs cannot be equal.
func withoutDropout(t *testing.T, args []string) []string {
	t.Helper()
	dir := filepath.Join(fx.bin, "..", "gpt2-nodropout")
	if _, err := os.Stat(dir); err != nil {
		require.NoError(t, os.CopyFS(dir, os.DirFS(fx.gpt2)))
		var cfg map[string]any
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &cfg))
		cfg["resid_pdrop"], cfg["embd_pdrop"], cfg["attn_pdrop"] = 0, 0, 0
		b, err = json.Marshal(cfg)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644))
	}
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == fx.gpt2 {
			out[i] = dir
		}
	}
	return out
}

// noDropGLUE is glueArgs on the GPT-2 without dropout.
func noDropGLUE(t *testing.T) func(out string, extra ...string) []string {
	return func(out string, extra ...string) []string { return withoutDropout(t, glueArgs(out, extra...)) }
}

// same is what makes one process and two ranks do the same arithmetic: dropout 0, and steps of 4 examples in
// forward passes of 2 (one process: 2 accumulated batches; two ranks: one batch each), so that every forward pass
// sees the same examples padded alike and the gradients add up in the same order.
var same = []string{"-dropout", "0", "-batch", "2", "-grad-accum", "2"}

// Both commands run data-parallel with -nproc 2 (torchrun's variables set for each rank): the adapters equal those
// of one process on the same global batches (1e-6), and rank 0 alone writes the output folder.
func TestDataParallelCommands(t *testing.T) {
	prepare(t)
	for _, tc := range []struct {
		name  string
		args  func(out string, extra ...string) []string
		steps int
	}{{"glue", noDropGLUE(t), 8}, {"llama", llamaArgs, 6}} {
		t.Run(tc.name, func(t *testing.T) {
			one, two := t.TempDir(), t.TempDir()
			mustRun(t, tc.name, tc.args(one, same...)...)
			r := mustRun(t, tc.name, tc.args(two, append(same, "-nproc", "2")...)...)
			requireSameAdapter(t, finalAdapter(t, one, tc.steps), finalAdapter(t, two, tc.steps), "-nproc 2")
			assert.Equal(t, tree(t, one), tree(t, two), "the same files")
			if tc.name == "glue" { // the evaluations, sharded over the ranks and gathered, score the whole dev set
				h1, h2 := evalMetrics(t, one), evalMetrics(t, two)
				require.NotEmpty(t, h1)
				assert.Equal(t, h1, h2)
			}
			assert.Contains(t, r.stdout, "final metrics", "rank 0 reports")
			assert.Equal(t, 1, strings.Count(r.stdout, "final metrics"), "rank 1 prints nothing on stdout")
		})
	}
}

// A run started in one process resumes with two ranks, and one of two ranks resumes alone: both end at the
// uninterrupted run's adapters.
func TestDataParallelResumeAtAnotherWorldSize(t *testing.T) {
	prepare(t)
	glueArgs := noDropGLUE(t)
	ref := t.TempDir()
	mustRun(t, "glue", glueArgs(ref, same...)...)
	want := finalAdapter(t, ref, 8)

	out := t.TempDir()
	killAt(t, "step:5", "glue", glueArgs(out, same...)...)
	mustRun(t, "glue", glueArgs(out, append(same, "-resume", "latest", "-nproc", "2")...)...)
	requireSameAdapter(t, want, finalAdapter(t, out, 8), "1 process, then 2 ranks")

	out = t.TempDir()
	r, _ := killRank(t, 0, "step:5", "glue", glueArgs(out, append(same, "-nproc", "2")...)...)
	require.NotEqual(t, 0, r.code)
	require.DirExists(t, train.CheckpointDir(out, 4))
	mustRun(t, "glue", glueArgs(out, append(same, "-resume", "latest")...)...)
	requireSameAdapter(t, want, finalAdapter(t, out, 8), "2 ranks, then 1 process")
}

// A rank killed in the middle of a step stops the run at once: the launcher names it, and the other rank does not
// wait for the 60 s collective timeout.
func TestDataParallelKilledRank(t *testing.T) {
	prepare(t)
	for _, name := range []string{"glue", "llama"} {
		t.Run(name, func(t *testing.T) {
			args := glueArgs
			if name == "llama" {
				args = llamaArgs
			}
			r, after := killRank(t, 1, "step:3", name, args(t.TempDir(), "-nproc", "2")...)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.Contains(t, r.stderr, fmt.Sprintf("%s: rank 1 of 2 was killed by signal 9 (killed)", name))
			assert.Less(t, after, 30*time.Second, "the run ends without waiting for the timeout")
		})
	}
}

// torchrun itself (the .venv's, from PyTorch) launches cmd/glue with --no-python: its agent serves the store
// (TORCHELASTIC_USE_AGENT_STORE), the ranks join it, and the run equals one process's.
func TestTorchrunLaunchesGLUE(t *testing.T) {
	prepare(t)
	glueArgs := noDropGLUE(t)
	one, two := t.TempDir(), t.TempDir()
	mustRun(t, "glue", glueArgs(one, same...)...)
	port := freePort(t)
	args := append([]string{"--nproc-per-node", "2", "--no-python", "--master-addr", "127.0.0.1", "--master-port", strconv.Itoa(port),
		filepath.Join(fx.bin, "glue")}, glueArgs(two, same...)...)
	cmd := exec.Command(filepath.Join(fx.root, ".venv", "bin", "torchrun"), args...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	requireSameAdapter(t, finalAdapter(t, one, 8), finalAdapter(t, two, 8), "torchrun --nproc-per-node 2")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
