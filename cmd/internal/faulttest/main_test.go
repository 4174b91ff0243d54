package faulttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/fixture"
	"github.com/loraplus-go/loraplus/loraplus/train"
)

// fx holds what TestMain prepares for every test: the built commands and the fixtures.
var fx struct {
	bin      string // folder of the glue, llama and mmlu binaries
	root     string // repository root
	gpt2     string // tiny GPT-2 classifier (128 positions, 3 labels)
	gpt2Tok  string // GPT-2 tokenizer (vocab.json and merges.txt)
	llama    string // tiny Llama (Llama-2 vocabulary)
	llamaTok string // Llama-2 tokenizer
	mnli     string // MNLI-16shot TSV files
	instruct string // instruction-tuning JSONL sample
}

var (
	prepared   sync.Once
	prepareErr error
	tmpRoot    string
)

// TestMain removes what prepare made once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// prepare builds the commands and writes the fixtures, once for all tests. It runs inside a test (not in
// TestMain) so that go test's cache records the sources statSources reads.
func prepare(t *testing.T) {
	t.Helper()
	prepared.Do(func() {
		tmpRoot, prepareErr = os.MkdirTemp("", "faulttest-")
		if prepareErr == nil {
			prepareErr = setup(tmpRoot)
		}
	})
	require.NoError(t, prepareErr, "faulttest set-up")
}

func setup(tmp string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return errors.New("no go.mod above the package folder")
		}
		dir = filepath.Dir(dir)
	}
	fx.root = dir
	if err := statSources(dir); err != nil {
		return err
	}
	fx.bin = filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", fx.bin+string(os.PathSeparator), "./cmd/glue", "./cmd/llama", "./cmd/mmlu")
	build.Dir = fx.root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	shared := filepath.Join(fx.root, "..", "shared", "data")
	fx.mnli = filepath.Join(shared, "glue", "MNLI-16shot")
	fx.llamaTok = filepath.Join(shared, "tokenizers", "llama2")
	fx.instruct = filepath.Join(fx.root, "llama", "instruct", "testdata", "instruct_sample.jsonl")
	for _, p := range []string{filepath.Join(fx.mnli, "train.tsv"), filepath.Join(fx.llamaTok, "tokenizer.model"), fx.instruct} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("test data missing: %w", err)
		}
	}
	// The GPT-2 tokenizer as vocab.json and merges.txt only: the files scripts/fetch-tokenizers.sh fetches.
	fx.gpt2Tok = filepath.Join(tmp, "gpt2-tokenizer")
	if err := os.MkdirAll(fx.gpt2Tok, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"vocab.json", "merges.txt"} {
		b, err := os.ReadFile(filepath.Join(fx.root, ".cache", "tokenizers", "gpt2", f))
		if err != nil {
			return fmt.Errorf("the GPT-2 tokenizer is missing (make test fetches it): %w", err)
		}
		if err := os.WriteFile(filepath.Join(fx.gpt2Tok, f), b, 0o644); err != nil {
			return err
		}
	}
	fx.gpt2 = filepath.Join(tmp, "gpt2")
	if err := fixture.TinyGPT2(fx.gpt2, 128, 3, 1); err != nil {
		return err
	}
	fx.llama = filepath.Join(tmp, "llama")
	return fixture.TinyLlama(fx.llama, fixture.TinyLlamaConfig, 2)
}

// statSources stats every Go file the commands are built from. go test caches a passing result until a file
// the test read changes; the commands are built by the test, out of sight of that cache, so without these stats
// a changed trainer would not rerun the suite.
func statSources(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".gotch" || d.Name() == "out") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") ||
			strings.HasSuffix(p, ".h") || strings.HasSuffix(p, ".cpp") || d.Name() == "go.mod" || d.Name() == "go.work") {
			_, err = os.Stat(p)
		}
		return err
	})
}

// result is how a command run ended.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs a built command (glue, llama or mmlu) to its end, with extra environment variables.
func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(fx.bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	timer := time.AfterFunc(3*time.Minute, func() { _ = cmd.Process.Kill() })
	err := cmd.Run()
	timer.Stop()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, name string, args ...string) result {
	t.Helper()
	r := runCmd(t, nil, name, args...)
	require.Equal(t, 0, r.code, "%s %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// killAt starts a command with train.FaultPauseEnv set to pause, waits until it reports that it paused there, and
// kills it with SIGKILL: a kill at an exact point of a step or of a checkpoint write. It returns the stderr.
func killAt(t *testing.T, pause, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(fx.bin, name), args...)
	cmd.Env = append(os.Environ(), train.FaultPauseEnv+"="+pause)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	timer := time.AfterFunc(3*time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var log strings.Builder
	killed := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if !killed && strings.HasPrefix(sc.Text(), "fault pause: ") {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		}
	}
	err = cmd.Wait()
	require.True(t, killed, "%s never paused at %s; it exited with %v:\n%s", name, pause, err, log.String())
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "want death by SIGKILL, got %v", err)
	return log.String()
}

// partials lists the partial checkpoint folders in out.
func partials(t *testing.T, out string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(out, train.PartialPrefix+"*"))
	require.NoError(t, err)
	return m
}

// timeKeys are the JSON fields that measure wall time or speed, which differ between any two runs.
var timeKeys = map[string]bool{"seconds": true, "train_seconds": true, "train_examples_per_second": true,
	"examples_per_second": true, "tokens_per_second": true,
	"seconds_per_step": true, "train_tokens_per_second": true}

// jsonFiles are compared as JSON, with time fields blanked and the output folder renamed; every other file of
// a run must be byte for byte the same.
var jsonFiles = map[string]bool{train.MetricsFile: true, train.HistoryFile: true, train.LogFile: true, train.StateFile: true,
	"sweep.json": true, "compare.json": true}

// normalize decodes a JSON or JSON-lines file with the run's folder replaced by OUT and time fields zeroed.
func normalize(t *testing.T, data []byte, out string) []any {
	t.Helper()
	data = bytes.ReplaceAll(data, []byte(out), []byte("OUT"))
	dec := json.NewDecoder(bytes.NewReader(data))
	var vals []any
	for dec.More() {
		var v any
		require.NoError(t, dec.Decode(&v))
		vals = append(vals, blankTimes(v))
	}
	return vals
}

func blankTimes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if timeKeys[k] {
				x[k] = 0
			} else {
				x[k] = blankTimes(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = blankTimes(x[i])
		}
	}
	return v
}

// tree lists the files and folders under dir, relative to it.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// TensorBoard event files are named by wall time and host; their contents are checked in loraplus/train.
		if rel, _ := filepath.Rel(dir, p); rel != "." && !strings.Contains("/"+filepath.Dir(rel)+"/", "/"+train.TensorBoardDir+"/") {
			out = append(out, rel)
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

// sameRun requires the output folder got to hold what want holds: the same files and folders (so no partial
// folder either), every checkpoint file (adapter, head, optimizer state, trainer state) byte for byte equal, and
// the metrics files equal up to wall times and the folder's name.
func sameRun(t *testing.T, want, got string) {
	t.Helper()
	files := tree(t, want)
	require.Equal(t, files, tree(t, got), "the same files and folders")
	for _, rel := range files {
		a, err := os.ReadFile(filepath.Join(want, rel))
		if err != nil {
			continue // a folder
		}
		b, err := os.ReadFile(filepath.Join(got, rel))
		require.NoError(t, err)
		if jsonFiles[filepath.Base(rel)] {
			assert.Equal(t, normalize(t, a, want), normalize(t, b, got), rel)
		} else {
			assert.True(t, bytes.Equal(a, b), "%s differs from the uninterrupted run's", rel)
		}
	}
}
