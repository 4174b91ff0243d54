package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// TestMain lets the test binary stand in for the command: with GLUE_CMD_MAIN=1 it runs main.
func TestMain(m *testing.M) {
	if os.Getenv("GLUE_CMD_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestCtrlC runs the command as a process, sends SIGINT once training has started, and checks the exit status
// 130, the checkpoint, and that -resume latest finishes the run.
func TestCtrlC(t *testing.T) {
	model, tok := tinyGPT2(t)
	out := t.TempDir()
	args := quick(model, tok, mnliDir(t), out, "-max-steps", "40", "-save-every", "0", "-eval-every", "0")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "GLUE_CMD_MAIN=1")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sent := false
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if !sent && strings.HasPrefix(sc.Text(), "train ") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			sent = true
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "want a non-zero exit, got %v\n%s", err, log.String())
	assert.Equal(t, cli.ExitInterrupted, exit.ExitCode(), log.String())
	assert.Contains(t, log.String(), "finishing this step and writing a checkpoint")
	assert.Contains(t, log.String(), "training interrupted at step")
	dir, err := train.ResolveCheckpoint(out, "latest")
	require.NoError(t, err)
	st, err := train.ReadState(dir)
	require.NoError(t, err)
	assert.Greater(t, st.Step, 0)
	assert.Less(t, st.Step, 40)

	done := make(chan error, 1)
	resume := exec.Command(os.Args[0], append(args[:len(args):len(args)], "-resume", "latest")...)
	resume.Env = cmd.Env
	go func() { _, err := resume.CombinedOutput(); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(120 * time.Second):
		_ = resume.Process.Kill()
		t.Fatal("resumed run did not finish")
	}
	var res train.Result
	js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &res))
	assert.Equal(t, 40, res.Step)
}
