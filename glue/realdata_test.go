package glue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realGLUEDir returns the shared GLUE data directory, failing the test when it is absent.
func realGLUEDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "data", "glue"))
	require.NoError(t, err)
	_, err = os.Stat(dir)
	require.NoError(t, err, "the shared GLUE data is missing: want it at %s (see ../shared/data/README.md)", dir)
	return dir
}

// realFile is one shared GLUE file with its expected row count and label counts.
type realFile struct {
	task, path string
	rows       int
	perLabel   []int
}

func realFiles(t *testing.T) []realFile {
	dir := realGLUEDir(t)
	return []realFile{
		{"sst-2", filepath.Join(dir, "SST-2", "train.tsv"), 67349, []int{29780, 37569}},
		{"sst-2", filepath.Join(dir, "SST-2", "dev.tsv"), 872, []int{428, 444}},
		{"mnli", filepath.Join(dir, "MNLI-16shot", "train.tsv"), 48, []int{16, 16, 16}},
		{"mnli", filepath.Join(dir, "MNLI-16shot", "dev_matched.tsv"), 48, []int{16, 16, 16}},
		{"qqp", filepath.Join(dir, "QQP-16shot", "train.tsv"), 32, []int{16, 16}},
		{"qqp", filepath.Join(dir, "QQP-16shot", "dev.tsv"), 32, []int{16, 16}},
	}
}

func TestRealFiles(t *testing.T) {
	for _, f := range realFiles(t) {
		t.Run(f.task+"/"+filepath.Base(filepath.Dir(f.path))+"/"+filepath.Base(f.path), func(t *testing.T) {
			res, err := mustTask(t, f.task).ReadFile(f.path, ReadOptions{})
			require.NoError(t, err)
			require.Len(t, res.Examples, f.rows)
			counts := make([]int, len(f.perLabel))
			for i, ex := range res.Examples {
				counts[ex.Label]++
				require.Equal(t, i+2, ex.Line, "rows are the lines after the header")
			}
			assert.Equal(t, f.perLabel, counts)
		})
	}
}

func TestRealFindFiles(t *testing.T) {
	dir := realGLUEDir(t)
	tests := []struct {
		task, dir string
		train     string
		dev       []Split
		missing   int
	}{
		{"sst-2", dir, "SST-2/train.tsv", []Split{{"sst-2", "SST-2/dev.tsv", ""}}, 0},
		{"sst-2", filepath.Join(dir, "SST-2"), "SST-2/train.tsv", []Split{{"sst-2", "SST-2/dev.tsv", ""}}, 0},
		{"mnli", filepath.Join(dir, "MNLI-16shot"), "MNLI-16shot/train.tsv", []Split{{"mnli-m", "MNLI-16shot/dev_matched.tsv", ""}}, 1},
		{"qqp", filepath.Join(dir, "QQP-16shot"), "QQP-16shot/train.tsv", []Split{{"qqp", "QQP-16shot/dev.tsv", ""}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.task+"/"+filepath.Base(tc.dir), func(t *testing.T) {
			files, err := mustTask(t, tc.task).FindFiles(tc.dir)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(dir, tc.train), files.Train)
			for i := range tc.dev {
				tc.dev[i].File = filepath.Join(dir, tc.dev[i].File)
			}
			assert.Equal(t, tc.dev, files.Dev)
			assert.Len(t, files.Missing, tc.missing)
		})
	}
	_, err := mustTask(t, "mnli").FindFiles(dir)
	require.ErrorContains(t, err, "task directories there: "+filepath.Join(dir, "MNLI-16shot"))
}

// hfExample is one example as printed by scripts/reference/glue_read.py.
type hfExample struct {
	GUID    string  `json:"guid"`
	TextA   string  `json:"text_a"`
	TextB   *string `json:"text_b"`
	Label   string  `json:"label"`
	LabelID float64 `json:"label_id"` // class id, or STS-B's score
}

type hfFile struct {
	Reordered bool        `json:"reordered"`
	Labels    []*string   `json:"labels"`
	Examples  []hfExample `json:"examples"`
}

// readWithHF reads files (task, path) with Hugging Face's GLUE processors through glue_read.py.
func readWithHF(t *testing.T, files [][2]string) map[string]hfFile {
	var args []string
	for _, f := range files {
		args = append(args, f[0]+"="+f[1])
	}
	var ref map[string]hfFile
	require.NoError(t, json.Unmarshal([]byte(reftest.Run(t, "glue_read.py", args...)), &ref))
	return ref
}

// compareWithHF reads path here and checks every example against Hugging Face's: id, texts, label string and
// class id (or score).
func compareWithHF(t *testing.T, task Task, path string, hf hfFile) {
	t.Helper()
	var labels []string
	for _, l := range hf.Labels {
		if l != nil {
			labels = append(labels, *l)
		}
	}
	assert.Equal(t, task.Labels, labels)
	res, err := task.ReadFile(path, ReadOptions{})
	require.NoError(t, err)
	require.Len(t, res.Examples, len(hf.Examples))
	for i, ex := range res.Examples {
		want := hf.Examples[i]
		_, id, _ := strings.Cut(want.GUID, "-")
		require.Equal(t, id, ex.ID, "line %d: id", ex.Line)
		require.Equal(t, want.TextA, ex.TextA, "line %d: text_a", ex.Line)
		if task.IsPair() {
			require.NotNil(t, want.TextB, "line %d: text_b", ex.Line)
			require.Equal(t, *want.TextB, ex.TextB, "line %d: text_b", ex.Line)
		} else {
			require.Nil(t, want.TextB, "line %d: text_b", ex.Line)
			require.Empty(t, ex.TextB, "line %d: text_b", ex.Line)
		}
		if task.Regression {
			require.Equal(t, want.LabelID, ex.Value, "line %d: score", ex.Line)
			require.Zero(t, ex.Label, "line %d: label", ex.Line)
			continue
		}
		require.Equal(t, want.LabelID, float64(ex.Label), "line %d: label", ex.Line)
		require.Equal(t, want.Label, task.Labels[ex.Label], "line %d: label", ex.Line)
	}
}

// TestParityWithHF reads the shared files here and with Hugging Face's GLUE processors and
// compares every example: texts, label strings and ids, and ids.
func TestParityWithHF(t *testing.T) {
	files := realFiles(t)
	var args [][2]string
	for _, f := range files {
		args = append(args, [2]string{f.task, f.path})
	}
	ref := readWithHF(t, args)
	for _, f := range files {
		t.Run(f.task+"/"+filepath.Base(filepath.Dir(f.path))+"/"+filepath.Base(f.path), func(t *testing.T) {
			hf, ok := ref[f.path]
			require.True(t, ok, "no reference output for %s", f.path)
			assert.Equal(t, f.task == "sst-2" && filepath.Base(f.path) == "train.tsv", hf.Reordered,
				"only the SST-2 train file has its columns out of the processor's order")
			compareWithHF(t, mustTask(t, f.task), f.path, hf)
		})
	}
}

// TestAllTasksParityWithHF reads the train and dev files of CoLA (no header), MRPC (byte order mark), RTE,
// STS-B (scores) and WNLI, laid out as the official GLUE download, here and with Hugging Face's processors.
func TestAllTasksParityWithHF(t *testing.T) {
	tasks := map[string]string{"cola": "CoLA", "mrpc": "MRPC", "rte": "RTE", "sts-b": "STS-B", "wnli": "WNLI"}
	var args [][2]string
	for name, dir := range tasks {
		for _, f := range []string{"train.tsv", "dev.tsv"} {
			p, err := filepath.Abs(filepath.Join("testdata", "glue", dir, f))
			require.NoError(t, err)
			args = append(args, [2]string{name, p})
		}
	}
	ref := readWithHF(t, args)
	for _, a := range args {
		t.Run(a[0]+"/"+filepath.Base(a[1]), func(t *testing.T) {
			task := mustTask(t, a[0])
			hf, ok := ref[a[1]]
			require.True(t, ok, "no reference output for %s", a[1])
			require.NotEmpty(t, hf.Examples)
			assert.False(t, hf.Reordered, "the files are in the processor's layout")
			compareWithHF(t, task, a[1], hf)
			files, err := task.FindFiles(filepath.Join("testdata", "glue"))
			require.NoError(t, err)
			assert.Len(t, files.Dev, 1)
		})
	}
}
