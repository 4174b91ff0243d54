package dist_test

import (
	"bytes"
	"fmt"
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
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus/dist"
)

// A rank of these tests is this test binary run again with DIST_TEST_SCENARIO set: TestRank runs the scenario
// as that rank and prints its result lines ("ok ..." or "error ...") for the parent to read.
func TestRank(t *testing.T) {
	scenario := os.Getenv("DIST_TEST_SCENARIO")
	if scenario == "" {
		return // not a child
	}
	runtime.LockOSThread()
	c, ok, err := dist.FromEnv()
	if err != nil || !ok {
		fmt.Println("error", err, ok)
		return
	}
	c.Timeout = 10 * time.Second
	g, err := dist.Init(c)
	if err != nil {
		fmt.Println("error", err)
		return
	}
	defer g.Close()
	switch scenario {
	case "mean":
		// rank r holds [r+1, 2(r+1)] and a [2, 2] of 10(r+1): the mean over 2 ranks is 1.5, 3 and 15
		a := ts.MustOfSlice([]float32{float32(c.Rank + 1), float32(2 * (c.Rank + 1))})
		b := ts.MustOnes([]int64{2, 2}, a.DType(), a.MustDevice()).MustMulScalar(ts.FloatScalar(float64(10*(c.Rank+1))), true)
		if err := g.AllReduceMean([]*ts.Tensor{a, b}); err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("ok", a.Float64Values(), b.Float64Values(), g.IsMain())
		if err := g.CheckSame([]string{"ratio", "targets"}, []string{"16", "q_proj,v_proj"}); err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("ok same")
		if err := g.Barrier(); err != nil {
			fmt.Println("error", err)
		}
	case "mismatch":
		err := g.CheckSame([]string{"ratio"}, []string{fmt.Sprint(16 + c.Rank)})
		fmt.Println("error", err)
	case "die":
		if c.Rank == 1 {
			os.Exit(3) // a rank that dies after joining
		}
		start := time.Now()
		err := g.AllReduceMean([]*ts.Tensor{ts.MustOfSlice([]float32{1})})
		fmt.Printf("error %v after %.1f s\n", err, time.Since(start).Seconds())
	}
}

// world runs scenario on n ranks over 127.0.0.1 and returns each rank's output.
func world(t *testing.T, scenario string, n int) []string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for r := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRank$", "-test.count=1")
		cmd.Env = append(os.Environ(), "DIST_TEST_SCENARIO="+scenario, "RANK="+strconv.Itoa(r), "LOCAL_RANK="+strconv.Itoa(r),
			"WORLD_SIZE="+strconv.Itoa(n), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port), "OMP_NUM_THREADS=1")
		outs[r] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[r], outs[r]
		require.NoError(t, cmd.Start())
		cmds[r] = cmd
	}
	res := make([]string, n)
	for r, cmd := range cmds {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("rank %d of scenario %s hung: %s", r, scenario, outs[r])
		}
		res[r] = outs[r].String()
	}
	return res
}

func TestAllReduceMeanOverTwoRanks(t *testing.T) {
	out := world(t, "mean", 2)
	for r, o := range out {
		assert.Contains(t, o, "ok [1.5 3] [15 15 15 15] "+strconv.FormatBool(r == 0), "rank %d: %s", r, o)
		assert.Contains(t, o, "ok same", "rank %d: %s", r, o)
		assert.NotContains(t, o, "error", "rank %d", r)
	}
}

// Ranks started with different settings refuse to train, each naming the setting.
func TestMismatchedSettingsAreRefused(t *testing.T) {
	out := world(t, "mismatch", 2)
	assert.Contains(t, out[1], "dist: rank 1's ratio (17) differs from rank 0's")
	assert.Contains(t, out[0], "dist: 1 rank(s) have another ratio than rank 0's (16)")
}

// A rank that dies makes the others' next collective fail well before the timeout, instead of hanging.
func TestDeadRankStopsTheOthers(t *testing.T) {
	out := world(t, "die", 2)
	require.True(t, strings.HasPrefix(strings.TrimSpace(out[0]), "error dist: rank 0: all-reduce:"), out[0])
	var secs float64
	_, err := fmt.Sscanf(out[0][strings.LastIndex(out[0], " after ")+7:], "%f", &secs)
	require.NoError(t, err, out[0])
	assert.Less(t, secs, 10.0, "within the 10 s timeout")
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		ok   bool
		err  string
		want dist.Config
	}{
		{"single process", map[string]string{}, false, "", dist.Config{WorldSize: 1}},
		{"world size 1 alone", map[string]string{"WORLD_SIZE": "1"}, false, "", dist.Config{WorldSize: 1}},
		{"torchrun with one process", map[string]string{"WORLD_SIZE": "1", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"},
			true, "", dist.Config{WorldSize: 1, Addr: "127.0.0.1", Port: 29500}},
		{"torchrun", map[string]string{"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "MASTER_ADDR": "node0", "MASTER_PORT": "29500"},
			true, "", dist.Config{Rank: 3, WorldSize: 4, LocalRank: 1, Addr: "node0", Port: 29500}},
		{"torchrun's agent store", map[string]string{"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "9",
			"TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RESTART_COUNT": "1"},
			true, "", dist.Config{WorldSize: 2, Addr: "h", Port: 9, AgentStore: true, StorePrefix: "/worker/attempt_1"}},
		{"no rank", map[string]string{"WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1"}, false, "RANK is not set", dist.Config{}},
		{"bad port", map[string]string{"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "x"}, false, `MASTER_PORT="x"`, dist.Config{}},
		{"rank out of world", map[string]string{"WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "h", "MASTER_PORT": "9"}, true, "rank 2 is not in a world of 2", dist.Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"} {
				t.Setenv(k, tc.env[k])
			}
			c, ok, err := dist.FromEnv()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, c)
		})
	}
}
