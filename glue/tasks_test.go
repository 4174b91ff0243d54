package glue

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustTask(t *testing.T, name string) Task {
	t.Helper()
	task, err := TaskByName(name)
	require.NoError(t, err)
	return task
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestTaskByName(t *testing.T) {
	tests := []struct {
		name, want string
		labels     []string
		columns    []string
		dev        []Split
	}{
		{"mnli", "mnli", []string{"contradiction", "entailment", "neutral"},
			[]string{"sentence1", "sentence2", "gold_label"},
			[]Split{{"mnli-m", "dev_matched.tsv", ""}, {"mnli-mm", "dev_mismatched.tsv", "_mm"}}},
		{"QQP", "qqp", []string{"0", "1"}, []string{"question1", "question2", "is_duplicate"},
			[]Split{{"qqp", "dev.tsv", ""}}},
		{"sst-2", "sst-2", []string{"0", "1"}, []string{"sentence", "label"}, []Split{{"sst-2", "dev.tsv", ""}}},
		{"sst2", "sst-2", []string{"0", "1"}, []string{"sentence", "label"}, []Split{{"sst-2", "dev.tsv", ""}}},
		{" qnli ", "qnli", []string{"entailment", "not_entailment"}, []string{"question", "sentence", "label"},
			[]Split{{"qnli", "dev.tsv", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task := mustTask(t, tc.name)
			assert.Equal(t, tc.want, task.Name)
			assert.Equal(t, tc.labels, task.Labels)
			assert.Equal(t, tc.columns, task.Columns())
			assert.Equal(t, tc.dev, task.Dev)
			assert.Equal(t, len(tc.columns) == 3, task.IsPair())
			assert.Equal(t, "train.tsv", task.Train.File)
		})
	}
	_, err := TaskByName("ax")
	require.EqualError(t, err, `unknown task "ax" (valid tasks: cola, mnli, mrpc, qnli, qqp, rte, sst-2, sts-b, wnli)`)
}

func TestTaskCopiesAreIndependent(t *testing.T) {
	a := mustTask(t, "mnli")
	a.Labels[0] = "changed"
	a.Dev[0].File = "changed"
	b := mustTask(t, "mnli")
	assert.Equal(t, "contradiction", b.Labels[0])
	assert.Equal(t, "dev_matched.tsv", b.Dev[0].File)
	assert.Len(t, Tasks(), 9)
}

func TestLabelIndex(t *testing.T) {
	task := mustTask(t, "mnli")
	for i, l := range task.Labels {
		got, ok := task.LabelIndex(l)
		assert.True(t, ok)
		assert.Equal(t, i, got)
	}
	_, ok := task.LabelIndex("Entailment")
	assert.False(t, ok, "labels match exactly")
}

func TestReadExamples(t *testing.T) {
	const mnliHeader = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t" +
		"sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
	mnliRow := func(id, s1, s2, label string) string {
		return id + "\t1\t1e\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\t" + s1 + "\t" + s2 + "\t" + label + "\t" + label + "\n"
	}
	tests := []struct {
		name     string
		task     string
		text     string
		want     []Example
		stopErr  string   // error under StopAtFirstError ("" for none)
		skipErrs []string // row errors under SkipBadRows
		fatal    bool     // the error is not a row error: both policies fail
	}{
		{
			name: "sst-2 swapped columns with CRLF",
			task: "sst-2",
			text: "label\tsentence\r\n0\thide new secretions\r\n1\tgood fun \r\n",
			want: []Example{
				{ID: "1", TextA: "hide new secretions", Label: 0, Line: 2},
				{ID: "2", TextA: "good fun ", Label: 1, Line: 3},
			},
		},
		{
			name: "sst-2 BOM and trailing empty line",
			task: "sst-2",
			text: "\ufeffsentence\tlabel\nit 's fine .\t1\n\n",
			want: []Example{{ID: "1", TextA: "it 's fine .", Label: 1, Line: 2}},
		},
		{
			name: "mnli quotes in text",
			task: "mnli",
			text: mnliHeader + mnliRow("7", `He said "no.`, `"Fine," she said.`, "neutral") +
				mnliRow("8", `''Tis "quoted"`, `x`, "contradiction"),
			want: []Example{
				{ID: "7", TextA: `He said "no.`, TextB: `"Fine," she said.`, Label: 2, Line: 2},
				{ID: "8", TextA: `''Tis "quoted"`, TextB: "x", Label: 0, Line: 3},
			},
		},
		{
			name: "qqp without qid columns",
			task: "qqp",
			text: "question2\tis_duplicate\tquestion1\nWhy?\t1\tHow?\n",
			want: []Example{{ID: "1", TextA: "How?", TextB: "Why?", Label: 1, Line: 2}},
		},
		{
			name: "qnli",
			task: "qnli",
			text: "index\tquestion\tsentence\tlabel\n0\tWho?\tHim.\tnot_entailment\n",
			want: []Example{{ID: "0", TextA: "Who?", TextB: "Him.", Label: 1, Line: 2}},
		},
		{
			name:     "malformed rows",
			task:     "qqp",
			text:     "id\tquestion1\tquestion2\tis_duplicate\n1\ta?\tb?\t0\n2\tc?\t1\n3\td?\te?\t1\textra\n4\tf?\tg?\t1\n",
			want:     []Example{{ID: "1", TextA: "a?", TextB: "b?", Line: 2}, {ID: "4", TextA: "f?", TextB: "g?", Label: 1, Line: 5}},
			stopErr:  "f.tsv:3: got 3 tab-separated fields, header has 4",
			skipErrs: []string{"f.tsv:3: got 3 tab-separated fields, header has 4", "f.tsv:4: got 5 tab-separated fields, header has 4"},
		},
		{
			name:     "unknown and empty labels",
			task:     "mnli",
			text:     mnliHeader + mnliRow("1", "a", "b", "-") + mnliRow("2", "a", "b", "") + mnliRow("3", "a", "b", "entailment"),
			want:     []Example{{ID: "3", TextA: "a", TextB: "b", Label: 1, Line: 4}},
			stopErr:  `f.tsv:2: unknown label "-" in column "gold_label" (want one of: contradiction, entailment, neutral)`,
			skipErrs: []string{`f.tsv:2: unknown label "-" in column "gold_label" (want one of: contradiction, entailment, neutral)`, `f.tsv:3: empty label in column "gold_label"`},
		},
		{
			name:     "label with spaces is unknown",
			task:     "sst-2",
			text:     "sentence\tlabel\nfine\t 1\n",
			stopErr:  `f.tsv:2: unknown label " 1" in column "label" (want one of: 0, 1)`,
			skipErrs: []string{`f.tsv:2: unknown label " 1" in column "label" (want one of: 0, 1)`},
		},
		{
			name:     "empty texts",
			task:     "qnli",
			text:     "index\tquestion\tsentence\tlabel\n0\t\tHim.\tentailment\n1\tWho?\t  \tentailment\n",
			stopErr:  `f.tsv:2: empty text in column "question"`,
			skipErrs: []string{`f.tsv:2: empty text in column "question"`, `f.tsv:3: empty text in column "sentence"`},
		},
		{
			name:    "missing column",
			task:    "mnli",
			text:    "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tneutral\n",
			stopErr: `f.tsv:1: missing column "gold_label" (header: index, sentence1, sentence2, label)`,
			fatal:   true,
		},
		{
			name:    "empty file",
			task:    "sst-2",
			text:    "",
			stopErr: "f.tsv:1: empty file: want a header row",
			fatal:   true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task := mustTask(t, tc.task)
			path := writeFile(t, t.TempDir(), "f.tsv", tc.text)
			// Errors name the file as given; run from its directory so the name is short.
			t.Chdir(filepath.Dir(path))

			stop, err := task.ReadFile("f.tsv", ReadOptions{})
			if tc.stopErr != "" {
				require.EqualError(t, err, tc.stopErr)
				assert.Nil(t, stop)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, stop.Examples)
				assert.Zero(t, stop.Skipped)
				assert.Empty(t, stop.Errors)
				assert.NoError(t, stop.Err())
			}

			skip, err := task.ReadFile("f.tsv", ReadOptions{Policy: SkipBadRows})
			if tc.fatal {
				require.EqualError(t, err, tc.stopErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, skip.Examples)
			assert.Equal(t, len(tc.skipErrs), skip.Skipped)
			var got []string
			for _, e := range skip.Errors {
				got = append(got, e.Error())
			}
			assert.Equal(t, tc.skipErrs, got)
			if len(tc.skipErrs) > 0 {
				assert.EqualError(t, skip.Err(), strings.Join(tc.skipErrs, "\n"))
			}
		})
	}
}

func TestReadExamplesBadInput(t *testing.T) {
	task := mustTask(t, "sst-2")
	_, err := task.ReadFile(filepath.Join(t.TempDir(), "nope.tsv"), ReadOptions{})
	require.ErrorIs(t, err, os.ErrNotExist)

	_, err = task.ReadExamples(strings.NewReader("sentence\tlabel\n"), "x", ReadOptions{Policy: Policy(9)})
	require.EqualError(t, err, "unknown read policy 9")

	_, err = Task{Name: "empty"}.ReadExamples(strings.NewReader("a\n"), "x", ReadOptions{})
	require.ErrorContains(t, err, `task "empty" is incomplete`)

	var le *LineError
	_, err = task.ReadExamples(strings.NewReader("sentence\tlabel\nx\t2\n"), "x", ReadOptions{})
	require.True(t, errors.As(err, &le))
	assert.Equal(t, &LineError{File: "x", Line: 2, Msg: `unknown label "2" in column "label" (want one of: 0, 1)`}, le)
}

func TestFindFiles(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "MNLI/train.tsv", "x")
	writeFile(t, root, "MNLI/dev_matched.tsv", "x")
	writeFile(t, root, "MNLI/dev_mismatched.tsv", "x")
	writeFile(t, root, "MNLI-16shot/train.tsv", "x")
	writeFile(t, root, "MNLI-16shot/dev_matched.tsv", "x")
	writeFile(t, root, "SST-2/dev.tsv", "x")
	writeFile(t, root, "QQP-16shot/train.tsv", "x")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "QNLI/train.tsv"), 0o755)) // a directory, not a file

	full := &Files{
		Dir:   filepath.Join(root, "MNLI"),
		Train: filepath.Join(root, "MNLI/train.tsv"),
		Dev: []Split{
			{Name: "mnli-m", File: filepath.Join(root, "MNLI/dev_matched.tsv")},
			{Name: "mnli-mm", File: filepath.Join(root, "MNLI/dev_mismatched.tsv"), Suffix: "_mm"},
		},
	}
	tests := []struct {
		name, task, dir string
		want            *Files
		err             string
	}{
		{name: "GLUE root", task: "mnli", dir: root, want: full},
		{name: "task directory", task: "mnli", dir: filepath.Join(root, "MNLI"), want: full},
		{name: "few-shot directory", task: "mnli", dir: filepath.Join(root, "MNLI-16shot"), want: &Files{
			Dir:     filepath.Join(root, "MNLI-16shot"),
			Train:   filepath.Join(root, "MNLI-16shot/train.tsv"),
			Dev:     []Split{{Name: "mnli-m", File: filepath.Join(root, "MNLI-16shot/dev_matched.tsv")}},
			Missing: []string{filepath.Join(root, "MNLI-16shot/dev_mismatched.tsv")},
		}},
		{name: "dev only", task: "sst-2", dir: root, want: &Files{
			Dir:     filepath.Join(root, "SST-2"),
			Dev:     []Split{{Name: "sst-2", File: filepath.Join(root, "SST-2/dev.tsv")}},
			Missing: []string{filepath.Join(root, "SST-2/train.tsv")},
		}},
		{name: "root with only a few-shot dir", task: "qqp", dir: root,
			err: `no qqp data in "` + root + `": want train.tsv or dev.tsv in it (the task directory) or in ` +
				filepath.Join(root, "QQP") + "; task directories there: " + filepath.Join(root, "QQP-16shot")},
		{name: "directory named like a file", task: "qnli", dir: root,
			err: `no qnli data in "` + root + `": want train.tsv or dev.tsv in it (the task directory) or in ` +
				filepath.Join(root, "QNLI") + "; task directories there: " + filepath.Join(root, "QNLI")},
		{name: "no such directory", task: "mnli", dir: filepath.Join(root, "none"),
			err: `no mnli data in "` + filepath.Join(root, "none") + `": want train.tsv or dev_matched.tsv or dev_mismatched.tsv in it (the task directory) or in ` +
				filepath.Join(root, "none/MNLI")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, err := mustTask(t, tc.task).FindFiles(tc.dir)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, files)
		})
	}
}

// TestReadNewTaskRows checks the rows of the tasks whose files differ from MNLI's: CoLA's have no header,
// STS-B's label is a score.
func TestReadNewTaskRows(t *testing.T) {
	sh := "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
	row := func(score string) string {
		return "0\tg\tf\t2012\t1\tnone\tnone\tA plane.\tAn air plane.\t" + score + "\n"
	}
	cases := []struct {
		task, text string
		want       []Example
		err        string
	}{
		{"sts-b", sh + row("3.800"), []Example{{ID: "0", TextA: "A plane.", TextB: "An air plane.", Value: 3.8, Line: 2}}, ""},
		{"sts-b", sh + row("x"), nil, `f.tsv:2: score "x" in column "score" is not a finite number`},
		{"sts-b", sh + row("NaN"), nil, `f.tsv:2: score "NaN" in column "score" is not a finite number`},
		{"sts-b", sh + row("-Inf"), nil, `f.tsv:2: score "-Inf" in column "score" is not a finite number`},
		{"cola", "gj04\t1\t\tGood.\nbc01\t0\t*\tBad bad.\n", []Example{{ID: "0", TextA: "Good.", Label: 1, Line: 1},
			{ID: "1", TextA: "Bad bad.", Label: 0, Line: 2}}, ""},
		{"cola", "gj04\t1\tGood.\n", nil, "f.tsv:1: got 3 tab-separated fields, header has 4"},
		{"cola", "gj04\t2\t\tGood.\n", nil, `f.tsv:1: unknown label "2" in column "label"`},
		{"mrpc", "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t7\t8\tA .\tB .\n",
			[]Example{{ID: "1", TextA: "A .", TextB: "B .", Label: 1, Line: 2}}, ""},
	}
	for _, c := range cases {
		t.Run(c.task+" "+c.err, func(t *testing.T) {
			res, err := mustTask(t, c.task).ReadExamples(strings.NewReader(c.text), "f.tsv", ReadOptions{})
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, res.Examples)
		})
	}
	stsb := mustTask(t, "stsb")
	assert.Equal(t, 1, stsb.NumLabels())
	assert.True(t, stsb.Regression)
	_, err := NewHeaderlessTSVReader(strings.NewReader(""), "f.tsv", []string{"a", "a"})
	require.EqualError(t, err, `f.tsv:1: duplicate column "a" (fields 1 and 2)`)
	_, err = NewHeaderlessTSVReader(strings.NewReader(""), "f.tsv", nil)
	require.EqualError(t, err, "glue: f.tsv: no columns given for a file without header")
}
