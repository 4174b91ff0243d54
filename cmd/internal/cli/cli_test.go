package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

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
