package mmlu

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSubjectList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"anatomy", []string{"anatomy"}},
		{"anatomy, virology ,,astronomy", []string{"anatomy", "virology", "astronomy"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, ParseSubjectList(tt.in))
		})
	}
}

func TestSelectSubjects(t *testing.T) {
	available := []string{"anatomy", "astronomy", "virology"}
	tests := []struct {
		name      string
		requested []string
		want      []string
		err       string
	}{
		{"all", nil, available, ""},
		{"order kept, repeats dropped", []string{"virology", "anatomy", "virology"}, []string{"virology", "anatomy"}, ""},
		{"unknown", []string{"anatomy", "alchemy", "astrology"}, nil,
			`unknown subjects "alchemy", "astrology"; valid subjects: anatomy, astronomy, virology`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectSubjects(available, tt.requested)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoad(t *testing.T) {
	root := mmluDir(t)
	tests := []struct {
		name      string
		opts      LoadOptions
		subjects  []string
		questions []int
		err       string
	}{
		{"subset with limit", LoadOptions{Subjects: []string{"virology", "anatomy"}, Limit: 3}, []string{"virology", "anatomy"}, []int{3, 3}, ""},
		{"val split", LoadOptions{Split: "val", Subjects: []string{"abstract_algebra"}}, []string{"abstract_algebra"}, []int{11}, ""},
		{"limit above count", LoadOptions{Split: "val", Subjects: []string{"global_facts"}, Limit: 1000}, []string{"global_facts"}, []int{10}, ""},
		{"unknown subject", LoadOptions{Subjects: []string{"alchemy"}}, nil, nil, `unknown subjects "alchemy"; valid subjects: abstract_algebra, anatomy,`},
		{"negative limit", LoadOptions{Limit: -1}, nil, nil, "limit -1"},
		{"missing split", LoadOptions{Split: "train"}, nil, nil, "list subjects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(root, tt.opts)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tt.subjects))
			for i, s := range got {
				assert.Equal(t, tt.subjects[i], s.Name)
				assert.Len(t, s.Dev, 5)
				assert.Len(t, s.Questions, tt.questions[i])
				assert.Equal(t, 1, s.Questions[0].Line, "the first questions of the file are kept")
			}
		})
	}
}

func TestLoadAll(t *testing.T) {
	got, err := Load(mmluDir(t), LoadOptions{})
	require.NoError(t, err)
	require.Len(t, got, 57)
	n := 0
	for _, s := range got {
		n += len(s.Questions)
		assert.Contains(t, Subcategories, s.Name)
	}
	assert.Equal(t, 14079, n)
}

func TestListSubjectsIgnoresOtherFiles(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "test", "sub_test.csv.d"), 0o755))
	for _, name := range []string{"b_subject_test.csv", "a_test.csv", "_test.csv", "notes.txt", "c_dev.csv"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, "test", name), nil, 0o644))
	}
	got, err := ListSubjects(root, "test")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b_subject"}, got)

	_, err = ListSubjects(root, "val")
	require.Error(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "dev"), 0o755))
	_, err = ListSubjects(root, "dev")
	assert.ErrorContains(t, err, "no *_dev.csv files")
}

// An evaluation over no question is an error naming the empty file(s); a zero-shot evaluation reads no dev file.
func TestLoadEmptyAndNoDev(t *testing.T) {
	q := "What is the Sun?,A star,A planet,A moon,A comet,A\n"
	root := t.TempDir()
	write := func(rel, body string) string {
		p := filepath.Join(root, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	write("test/anatomy_test.csv", q)
	emptyA := write("test/astronomy_test.csv", "")
	emptyV := write("test/virology_test.csv", "\xef\xbb\xbf")
	write("dev/astronomy_dev.csv", q)
	for _, tc := range []struct {
		name string
		opts LoadOptions
		err  string
	}{
		{"one empty subject", LoadOptions{Subjects: []string{"astronomy"}}, "mmlu: " + emptyA + " holds no questions"},
		{"every subject", LoadOptions{NoDev: true}, "mmlu: 2 files hold no questions: " + emptyA + ", " + emptyV},
		{"dev files are read", LoadOptions{Subjects: []string{"anatomy"}}, "open " + filepath.Join(root, "dev", "anatomy_dev.csv") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(root, tc.opts)
			assert.EqualError(t, err, tc.err)
		})
	}
	got, err := Load(root, LoadOptions{Subjects: []string{"anatomy"}, NoDev: true})
	require.NoError(t, err, "zero-shot: no dev file needed")
	require.Len(t, got, 1)
	assert.Nil(t, got[0].Dev)
	assert.Len(t, got[0].Questions, 1)
}
