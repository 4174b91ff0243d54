package glue

import (
	"encoding/json"
	"os"
	"os/exec"
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
		{"sst-2", dir, "SST-2/train.tsv", []Split{{"sst-2", "SST-2/dev.tsv"}}, 0},
		{"sst-2", filepath.Join(dir, "SST-2"), "SST-2/train.tsv", []Split{{"sst-2", "SST-2/dev.tsv"}}, 0},
		{"mnli", filepath.Join(dir, "MNLI-16shot"), "MNLI-16shot/train.tsv", []Split{{"mnli-m", "MNLI-16shot/dev_matched.tsv"}}, 1},
		{"qqp", filepath.Join(dir, "QQP-16shot"), "QQP-16shot/train.tsv", []Split{{"qqp", "QQP-16shot/dev.tsv"}}, 0},
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
	LabelID int     `json:"label_id"`
}

type hfFile struct {
	Reordered bool        `json:"reordered"`
	Labels    []string    `json:"labels"`
	Examples  []hfExample `json:"examples"`
}

// TestParityWithHF reads the shared files here and with Hugging Face's GLUE processors and
// compares every example: texts, label strings and ids, and ids.
func TestParityWithHF(t *testing.T) {
	files := realFiles(t)
	root := reftest.Root(t)
	python := filepath.Join(root, ".venv", "bin", "python")
	_, err := os.Stat(python)
	require.NoError(t, err, "the Python reference environment is missing: want %s (see scripts/requirements.txt)", python)

	args := []string{filepath.Join(root, "scripts", "reference", "glue_read.py")}
	for _, f := range files {
		args = append(args, f.task+"="+f.path)
	}
	cmd := exec.Command(python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "glue_read.py failed: %s", stderr.String())
	var ref map[string]hfFile
	require.NoError(t, json.Unmarshal(out, &ref))

	for _, f := range files {
		t.Run(f.task+"/"+filepath.Base(filepath.Dir(f.path))+"/"+filepath.Base(f.path), func(t *testing.T) {
			task := mustTask(t, f.task)
			hf, ok := ref[f.path]
			require.True(t, ok, "no reference output for %s", f.path)
			assert.Equal(t, task.Labels, hf.Labels)
			assert.Equal(t, f.task == "sst-2" && filepath.Base(f.path) == "train.tsv", hf.Reordered,
				"only the SST-2 train file has its columns out of the processor's order")

			res, err := task.ReadFile(f.path, ReadOptions{})
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
				require.Equal(t, want.LabelID, ex.Label, "line %d: label", ex.Line)
				require.Equal(t, want.Label, task.Labels[ex.Label], "line %d: label", ex.Line)
			}
		})
	}
}
