package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn/reftest"
)

// testLayout writes the rows of a labelled GLUE file without its label columns (a test split's layout) and
// returns its path and the gold labels in order.
func testLayout(t *testing.T, dev string, drop ...string) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(dev)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	keep, gold := []int{}, -1
	for i, h := range header {
		if h == "gold_label" {
			gold = i
		}
		if !strings.Contains(strings.Join(drop, "\n")+"\n", h+"\n") {
			keep = append(keep, i)
		}
	}
	require.GreaterOrEqual(t, gold, 0)
	var out strings.Builder
	var labels []string
	for n, l := range lines {
		f := strings.Split(l, "\t")
		var row []string
		for _, i := range keep {
			row = append(row, f[i])
		}
		out.WriteString(strings.Join(row, "\t") + "\n")
		if n > 0 {
			labels = append(labels, f[gold])
		}
	}
	p := filepath.Join(t.TempDir(), "test_matched.tsv")
	require.NoError(t, os.WriteFile(p, []byte(out.String()), 0o644))
	return p, labels
}

// -eval-only with the adapter a short run saved gives the metrics of the run's final evaluation; -predict
// writes GLUE's submission format, one row per test example, whose accuracy against the gold labels is the
// evaluation's. The run uses -targets all-linear and -rslora, which the saved adapter carries.
func TestEvalOnlyAndPredict(t *testing.T) {
	runtime.LockOSThread()
	model, tok := tinyGPT2(t)
	data := mnliDir(t)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := quick(model, tok, data, out, "-max-steps", "4", "-limit-eval", "0", "-targets", "all-linear", "-rslora", "-lr", "5e-3")
	require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "transformer.h.0.mlp.c_fc.lora_A.weight", "all-linear adapts the MLP too")
	var res train.Result
	js, err := os.ReadFile(filepath.Join(out, train.MetricsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &res))
	require.Contains(t, res.Metrics, "eval_accuracy")
	var peft map[string]any
	js, err = os.ReadFile(filepath.Join(out, "checkpoint-4", "adapter_config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &peft))
	assert.Equal(t, true, peft["use_rslora"])
	assert.Len(t, peft["target_modules"], 4, "the four linear layers of the block, as PEFT saves all-linear")

	testFile, gold := testLayout(t, filepath.Join(data, "dev_matched.tsv"), "label1", "gold_label")
	evalOut := t.TempDir()
	stdout.Reset()
	stderr.Reset()
	evalArgs := quick(model, tok, data, evalOut, "-limit-eval", "0", "-adapter", filepath.Join(out, "checkpoint-4"),
		"-eval-only", "-predict", testFile)
	require.Equal(t, cli.ExitOK, run(evalArgs, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "adapter "+filepath.Join(out, "checkpoint-4")+": 4 modules adapted")
	var got glue.Metrics
	js, err = os.ReadFile(filepath.Join(evalOut, EvalResultsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &got))
	require.NotEmpty(t, got)
	for k, v := range got {
		assert.InDelta(t, res.Metrics[k], v, 1e-9, "%s: eval-only against the run's final evaluation", k)
	}

	b, err := os.ReadFile(filepath.Join(evalOut, "predict_results_test_matched.tsv"))
	require.NoError(t, err)
	rows := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, rows, len(gold)+1, "a header and one row per test example")
	assert.Equal(t, "index\tprediction", rows[0])
	tb, err := os.ReadFile(testFile)
	require.NoError(t, err)
	testRows := strings.Split(strings.TrimSuffix(string(tb), "\n"), "\n")[1:]
	right := 0
	for i, r := range rows[1:] {
		f := strings.Split(r, "\t")
		require.Len(t, f, 2, r)
		assert.Equal(t, strings.Split(testRows[i], "\t")[0], f[0], "the test file's index column")
		assert.Contains(t, []string{"entailment", "neutral", "contradiction"}, f[1])
		if f[1] == gold[i] {
			right++
		}
	}
	assert.InDelta(t, got["eval_accuracy"], float64(right)/float64(len(gold)), 1e-12, "predictions score the eval accuracy")
}

func TestEvalFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-adapter", "a"}, "-adapter is read by -eval-only and -predict"},
		{[]string{"-eval-only", "-compare"}, "-eval-only and -predict do not train"},
		{[]string{"-predict", "t.tsv", "-resume", "latest"}, "-eval-only and -predict do not train"},
	} {
		_, err := parseFlags(tc.args, &bytes.Buffer{})
		assert.ErrorContains(t, err, tc.want, "%q", tc.args)
	}
}

// stsbDir writes a small STS-B task directory (train.tsv and dev.tsv with scores, test.tsv in the test split's
// layout without them) from the sentence pairs of a GLUE MNLI file, the scores spread over [0, 5].
func stsbDir(t *testing.T, mnli string) (dir, test string, n int) {
	t.Helper()
	b, err := os.ReadFile(mnli)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	s1, s2 := slices.Index(header, "sentence1"), slices.Index(header, "sentence2")
	require.True(t, s1 >= 0 && s2 >= 0)
	dir = filepath.Join(t.TempDir(), "STS-B")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	head := "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2"
	var train, dev, tst strings.Builder
	train.WriteString(head + "\tscore\n")
	dev.WriteString(head + "\tscore\n")
	tst.WriteString(head + "\n")
	for i, l := range lines[1:] {
		f := strings.Split(l, "\t")
		row := fmt.Sprintf("%d\tmain\tx\t2012\t%d\tnone\tnone\t%s\t%s", i, i, f[s1], f[s2])
		fmt.Fprintf(&train, "%s\t%.1f\n", row, float64(i%11)*0.5)
		fmt.Fprintf(&dev, "%s\t%.1f\n", row, float64((i*7)%11)*0.5)
		tst.WriteString(row + "\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "train.tsv"), []byte(train.String()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dev.tsv"), []byte(dev.String()), 0o644))
	test = filepath.Join(dir, "test.tsv")
	require.NoError(t, os.WriteFile(test, []byte(tst.String()), 0o644))
	return dir, test, len(lines) - 1
}

// STS-B's regression head: -eval-only reproduces the run's final Pearson and Spearman correlations (continuous
// metrics, so an adapter that did not load shows), and -predict writes scores with three decimals.
func TestEvalOnlyRegression(t *testing.T) {
	runtime.LockOSThread()
	tok := filepath.Join(reftest.Root(t), ".cache", "tokenizers", "gpt2")
	model := t.TempDir()
	reftest.Run(t, "gluecmd_tiny.py", "gpt2", model, "1")
	data, test, n := stsbDir(t, filepath.Join(mnliDir(t), "dev_matched.tsv"))
	out := t.TempDir()
	common := []string{"-task", "stsb", "-model", model, "-tokenizer", tok, "-data", data, "-device", "cpu", "-batch", "4",
		"-max-len", "32", "-pad-longest"}
	var stdout, stderr bytes.Buffer
	train := append(slices.Clone(common), "-out", out, "-max-steps", "4", "-lr", "5e-3", "-save-every", "4", "-eval-every", "4")
	require.Equal(t, cli.ExitOK, run(train, &stdout, &stderr), stderr.String())
	var res struct{ Metrics glue.Metrics }
	js, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &res))
	require.Contains(t, res.Metrics, "eval_pearson")

	evalOut := t.TempDir()
	pred := filepath.Join(t.TempDir(), "STS-B.tsv")
	args := append(slices.Clone(common), "-out", evalOut, "-adapter", filepath.Join(out, "checkpoint-4"), "-eval-only",
		"-predict", test, "-predict-out", pred)
	require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
	var got glue.Metrics
	js, err = os.ReadFile(filepath.Join(evalOut, EvalResultsFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &got))
	for _, k := range []string{"eval_pearson", "eval_spearmanr", "eval_combined_score"} {
		require.Contains(t, got, k)
		assert.InDelta(t, res.Metrics[k], got[k], 1e-9, k)
	}
	b, err := os.ReadFile(pred)
	require.NoError(t, err)
	rows := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, rows, n+1)
	assert.Equal(t, "index\tprediction", rows[0])
	for i, r := range rows[1:] {
		assert.Regexp(t, fmt.Sprintf(`^%d\t-?\d+\.\d{3}$`, i), r)
	}
}

// -adapter takes an adapter PEFT saved (LoRA on c_attn, c_proj and c_fc, the score head in modules_to_save):
// -predict gives PEFT's predictions, classes for MNLI and scores (three decimals) for STS-B's regression head.
func TestPredictWithPEFTAdapter(t *testing.T) {
	runtime.LockOSThread()
	tok := filepath.Join(reftest.Root(t), ".cache", "tokenizers", "gpt2")
	mnliTest, _ := testLayout(t, filepath.Join(mnliDir(t), "dev_matched.tsv"), "label1", "gold_label")
	_, stsbTest, _ := stsbDir(t, filepath.Join(mnliDir(t), "dev_matched.tsv"))
	for _, tc := range []struct {
		task, labels, test string
	}{{"mnli", "3", mnliTest}, {"stsb", "1", stsbTest}} {
		t.Run(tc.task, func(t *testing.T) {
			model, adapter := t.TempDir(), t.TempDir()
			reftest.Run(t, "gluecmd_tiny.py", "gpt2", model, tc.labels)
			want := strings.Fields(reftest.Run(t, "peft_glue_adapter.py", model, tok, adapter, tc.test, "sentence1", "sentence2", "32"))
			pred := filepath.Join(t.TempDir(), "pred.tsv")
			var stdout, stderr bytes.Buffer
			args := []string{"-task", tc.task, "-model", model, "-tokenizer", tok, "-adapter", adapter, "-predict", tc.test,
				"-predict-out", pred, "-device", "cpu", "-batch", "4", "-max-len", "32", "-pad-longest"}
			require.Equal(t, cli.ExitOK, run(args, &stdout, &stderr), stderr.String())
			b, err := os.ReadFile(pred)
			require.NoError(t, err)
			rows := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")[1:]
			require.Len(t, rows, len(want))
			task, err := glue.TaskByName(tc.task)
			require.NoError(t, err)
			for i, r := range rows {
				got := strings.Split(r, "\t")[1]
				if task.Regression {
					g, err1 := strconv.ParseFloat(got, 64)
					w, err2 := strconv.ParseFloat(want[i], 64)
					require.NoError(t, errors.Join(err1, err2))
					assert.InDelta(t, w, g, 6e-4, "row %d", i)
					continue
				}
				assert.Equal(t, want[i], strconv.Itoa(slices.Index(task.Labels, got)), "row %d: %s", i, got)
			}
		})
	}
}
