package faulttest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// glueArgs is a run of cmd/glue on the tiny GPT-2: 8 steps of 4 examples over 16 (two epochs, so the resume
// crosses an epoch's reshuffle), dropout 0.1, an evaluation and a checkpoint every 2 steps, 2 checkpoints kept.
func glueArgs(out string, extra ...string) []string {
	return append([]string{"-task", "mnli", "-model", fx.gpt2, "-tokenizer", fx.gpt2Tok, "-data", fx.mnli, "-out", out,
		"-device", "cpu", "-threads", "1", "-batch", "4", "-max-len", "32", "-pad-longest", "-limit-train", "16",
		"-limit-eval", "8", "-max-steps", "8", "-eval-every", "2", "-save-every", "2", "-keep", "2"}, extra...)
}

// llamaArgs is a run of cmd/llama on the tiny Llama: 6 steps of 4 examples of the 20-example sample (an epoch
// boundary inside), a checkpoint every 2 steps, 2 kept.
func llamaArgs(out string, extra ...string) []string {
	return append([]string{"-data", fx.instruct, "-model", fx.llama, "-tokenizer", fx.llamaTok, "-out", out,
		"-device", "cpu", "-threads", "1", "-batch", "4", "-max-len", "48", "-r", "8", "-max-steps", "6",
		"-save-every", "2", "-keep", "2"}, extra...)
}

// killCase is a sequence of SIGKILLs, each at a pause point of train.FaultPauseEnv, the first in a fresh run and
// the others in runs resumed with -resume latest; a last resumed run then finishes.
type killCase struct {
	name  string
	kills []string
}

// runKills runs a kill case of a command and requires the finished run to equal ref, the uninterrupted one.
// A kill inside a checkpoint write must leave a partial folder, which the next run must remove and name.
func runKills(t *testing.T, name string, args func(out string, extra ...string) []string, ref string, kc killCase) {
	out := t.TempDir()
	left := false
	for i, pause := range kc.kills {
		extra := []string{}
		if i > 0 {
			extra = []string{"-resume", "latest"}
		}
		log := killAt(t, pause, name, args(out, extra...)...)
		if left {
			assert.Contains(t, log, "removed partial checkpoint folder", "the resumed run removes the partial folder")
		}
		inWrite := strings.HasPrefix(pause, "checkpoint-") && !strings.HasPrefix(pause, "checkpoint-renamed")
		left = len(partials(t, out)) > 0
		assert.Equal(t, inWrite, left, "a kill inside a checkpoint write leaves a partial folder; none otherwise")
	}
	r := mustRun(t, name, args(out, "-resume", "latest")...)
	if left {
		assert.Contains(t, r.stderr, "removed partial checkpoint folder "+filepath.Join(out, ".tmp-checkpoint-"))
	}
	assert.Empty(t, partials(t, out))
	sameRun(t, ref, out)
}

// TestKillAndResumeGLUE kills cmd/glue runs at every kind of point and checks that -resume latest ends with the
// files of the uninterrupted run.
func TestKillAndResumeGLUE(t *testing.T) {
	prepare(t)
	ref := t.TempDir()
	mustRun(t, "glue", glueArgs(ref)...)
	require.FileExists(t, filepath.Join(ref, "checkpoint-8", "optimizer.safetensors"))
	for _, kc := range []killCase{
		{"during step 3", []string{"step:3"}},
		{"checkpoint-4 write: adapter written", []string{"checkpoint-adapter:4"}},
		{"checkpoint-4 write: optimizer state written", []string{"checkpoint-optimizer:4"}},
		{"checkpoint-4 write: every file written, folder not renamed", []string{"checkpoint-state:4"}},
		{"checkpoint-6 renamed, older ones not pruned", []string{"checkpoint-renamed:6"}},
		{"after the last step, before metrics.json", []string{"metrics:8"}},
		{"twice: during step 3, then in checkpoint-6's write", []string{"step:3", "checkpoint-optimizer:6"}},
	} {
		t.Run(kc.name, func(t *testing.T) { runKills(t, "glue", glueArgs, ref, kc) })
	}
}

// TestKillAndResumeLlama does the same for cmd/llama (instruction tuning).
func TestKillAndResumeLlama(t *testing.T) {
	prepare(t)
	ref := t.TempDir()
	mustRun(t, "llama", llamaArgs(ref)...)
	require.FileExists(t, filepath.Join(ref, "checkpoint-6", "optimizer.safetensors"))
	for _, kc := range []killCase{
		{"during step 3", []string{"step:3"}},
		{"checkpoint-4 write: optimizer state written", []string{"checkpoint-optimizer:4"}},
		{"after the last step, before metrics.json", []string{"metrics:6"}},
	} {
		t.Run(kc.name, func(t *testing.T) { runKills(t, "llama", llamaArgs, ref, kc) })
	}
}

// TestKillSweepAndCompare kills a -sweep and a -compare in their second run and checks that -resume latest
// does not train the finished run again, continues the interrupted one from its checkpoint, and ends with the
// files of the uninterrupted sweep or comparison.
func TestKillSweepAndCompare(t *testing.T) {
	prepare(t)
	for _, tc := range []struct {
		name, flag, value string
		first, second     string // output folders of the two runs, under -out
	}{
		{"sweep", "-sweep", "1e-4,1e-3:1e-3", "sweep/lrA_0.0001_lrB_0.001", "sweep/lrA_0.001_lrB_0.001"},
		{"compare", "-compare", "", "compare/ratio-1", "compare/ratio-16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := func(out string, extra ...string) []string {
				a := glueArgs(out, "-max-steps", "4", tc.flag)
				if tc.value != "" {
					a = append(a, tc.value)
				}
				return append(a, extra...)
			}
			ref := t.TempDir()
			mustRun(t, "glue", args(ref)...)
			out := t.TempDir()
			killAt(t, "step:3:2", "glue", args(out)...) // step 3 of the second run
			assert.FileExists(t, filepath.Join(out, tc.first, "metrics.json"), "the first run finished")
			assert.NoFileExists(t, filepath.Join(out, tc.second, "metrics.json"))
			r := mustRun(t, "glue", args(out, "-resume", "latest")...)
			assert.Contains(t, r.stdout, "into "+filepath.Join(out, tc.first)+"\nresumed at step 4 (epoch 1, batch 0)\n",
				"the finished run is only read back")
			assert.Contains(t, r.stdout, "into "+filepath.Join(out, tc.second)+"\nresumed at step 2 (epoch 0, batch 2)\n",
				"the interrupted run continues from its checkpoint")
			sameRun(t, ref, out)
		})
	}
}
