package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/loraplus-go/loraplus/loraplus/train"
)

func TestMainExitStatuses(t *testing.T) {
	cases := []struct {
		name     string
		parseErr error
		runErr   error
		want     int
		stderr   string
	}{
		{"ok", nil, nil, ExitOK, ""},
		{"help", flag.ErrHelp, nil, ExitOK, ""},
		{"bad flags", errors.New("-task: unknown task"), nil, ExitUsage, "cmd: -task: unknown task\n"},
		{"failure", nil, errors.New("data.tsv:3: 2 columns"), ExitError, "cmd: data.tsv:3: 2 columns\n"},
		{"interrupted", nil, fmt.Errorf("train: %w at step 4", train.ErrInterrupted), ExitInterrupted, "cmd: train: training interrupted at step 4\n"},
		{"prefix not repeated", nil, errors.New("cmd: train: loss is NaN"), ExitError, "cmd: train: loss is NaN\n"},
		{"interrupted, prefix not repeated", nil, fmt.Errorf("cmd: train: %w", train.ErrInterrupted), ExitInterrupted,
			"cmd: train: training interrupted\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			ran := false
			parse := func(args []string) (string, error) { return strings.Join(args, " "), tc.parseErr }
			got := Main("cmd", []string{"-x", "1"}, &stderr, parse, func(o string, st *Stopper) error {
				ran = true
				assert.Equal(t, "-x 1", o)
				assert.NotNil(t, st)
				return tc.runErr
			})
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.parseErr == nil, ran, "the command runs only after its flags parse")
			assert.Equal(t, tc.stderr, stderr.String())
		})
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct{ err, want string }{
		{"x.csv:3: bad answer", "mmlu: x.csv:3: bad answer"},
		{"mmlu: x.csv holds no questions", "mmlu: x.csv holds no questions"},
		{"mmlu: mmlu: twice", "mmlu: twice"},
		{"mmlu:no space", "mmlu: mmlu:no space"},
		{"llama: mmlu: another package's prefix stays", "mmlu: llama: mmlu: another package's prefix stays"},
	} {
		assert.Equal(t, tc.want, Message("mmlu", errors.New(tc.err)), tc.err)
	}
}

// TestMainContextExitStatuses checks MainContext's statuses, and that SIGINT cancels the context the command runs
// with and makes its error an interruption.
func TestMainContextExitStatuses(t *testing.T) {
	cases := []struct {
		name     string
		parseErr error
		run      func(ctx context.Context) error
		want     int
		stderr   string
	}{
		{"ok", nil, func(context.Context) error { return nil }, ExitOK, ""},
		{"help", flag.ErrHelp, nil, ExitOK, ""},
		{"bad flags", errors.New("-chat: want auto"), nil, ExitUsage, "cmd: -chat: want auto\n"},
		{"failure", nil, func(context.Context) error { return errors.New("model.gguf: truncated") }, ExitError, "cmd: model.gguf: truncated\n"},
		{"interrupted", nil, func(ctx context.Context) error {
			if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return errors.New("SIGINT did not cancel the context")
			}
		}, ExitInterrupted, "cmd: interrupted: context canceled\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			parse := func(args []string) (string, error) { return strings.Join(args, " "), tc.parseErr }
			got := MainContext("cmd", []string{"-x"}, &stderr, parse, func(ctx context.Context, o string) error {
				assert.Equal(t, "-x", o)
				return tc.run(ctx)
			})
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.stderr, stderr.String())
		})
	}
}

// -nproc's workers get the command line without -nproc, in every spelling the flag package takes.
func TestDropFlag(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"-task", "mnli", "-nproc", "2", "-r", "8"}, []string{"-task", "mnli", "-r", "8"}},
		{[]string{"--nproc=4", "-task", "mnli"}, []string{"-task", "mnli"}},
		{[]string{"-nproc=2"}, nil},
		{[]string{"-task", "nproc", "-nprocs", "3"}, []string{"-task", "nproc", "-nprocs", "3"}},
	} {
		assert.Equal(t, tc.want, dropFlag(tc.in, "nproc"), "%v", tc.in)
	}
}
