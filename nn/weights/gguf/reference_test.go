package gguf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/loraplus-go/loraplus/nn/reftest"

	"github.com/stretchr/testify/require"
)

// refRun is one run of a reference script, shared by the tests of this
// binary; TestMain removes its output directory.
type refRun struct {
	once sync.Once
	done chan struct{}
	dir  string
	err  error
}

var (
	fixtureRun, smolLM2Run refRun
	refDirsMu              sync.Mutex
	refDirs                []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range refDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// start launches scripts/reference/<script> args... OUTDIR in the
// background unless it already ran.
func (r *refRun) start(t testing.TB, script string, args ...string) {
	t.Helper()
	py := venvPython(t)
	scriptPath := filepath.Join(reftest.Root(t), "scripts", "reference", script)
	r.once.Do(func() {
		r.done = make(chan struct{})
		go func() {
			defer close(r.done)
			r.dir, r.err = runScript(py, scriptPath, args...)
		}()
	})
}

// wait returns the output directory of a started run, failing the test if
// the script failed.
func (r *refRun) wait(t testing.TB, script string) string {
	t.Helper()
	<-r.done
	require.NoError(t, r.err, "scripts/reference/%s failed", script)
	return r.dir
}

// runScript runs a reference script into a fresh temporary directory.
func runScript(py, script string, args ...string) (string, error) {
	dir, err := os.MkdirTemp("", "gguf-ref-")
	if err != nil {
		return "", err
	}
	refDirsMu.Lock()
	refDirs = append(refDirs, dir)
	refDirsMu.Unlock()
	cmd := exec.Command(py, append(append([]string{script}, args...), dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, out)
	}
	return dir, nil
}

// venvPython returns the reference Python interpreter, failing the test
// when the project's virtual environment is missing.
func venvPython(t testing.TB) string {
	t.Helper()
	py := filepath.Join(reftest.Root(t), ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("reference Python %s is missing: create the project virtual environment (.venv with numpy and gguf, scripts/requirements.txt) to run the parity tests", py)
	}
	return py
}

// fixtureDir returns the directory written by gguf_fixture.py.
func fixtureDir(t testing.TB) string {
	t.Helper()
	fixtureRun.start(t, "gguf_fixture.py")
	return fixtureRun.wait(t, "gguf_fixture.py")
}

// startSmolLM2Ref launches gguf_smollm2.py on the real file in the
// background; smolLM2RefDir waits for it.
func startSmolLM2Ref(t testing.TB) {
	t.Helper()
	smolLM2Run.start(t, "gguf_smollm2.py", reftest.SmolLM2(t))
}

// smolLM2RefDir returns the directory written by gguf_smollm2.py.
func smolLM2RefDir(t testing.TB) string {
	t.Helper()
	startSmolLM2Ref(t)
	return smolLM2Run.wait(t, "gguf_smollm2.py")
}

// readJSON decodes a JSON file keeping numbers exact.
func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	dec := json.NewDecoder(fh)
	dec.UseNumber()
	require.NoError(t, dec.Decode(v), path)
}

// readF32 reads a raw little-endian float32 file.
func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Zero(t, len(b)%4, path)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// requireSameFloats checks got against want value by value: bit-identical
// (NaNs match any NaN) and, as a readable summary, within tol.
func requireSameFloats(t testing.TB, want, got []float32, tol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	maxDiff, firstBad, nDiffBits := 0.0, -1, 0
	for i := range want {
		w, g := want[i], got[i]
		if w != w && g != g {
			continue
		}
		if math.Float32bits(w) != math.Float32bits(g) {
			nDiffBits++
			if firstBad < 0 {
				firstBad = i
			}
		}
		if math.IsInf(float64(w), 0) || math.IsInf(float64(g), 0) {
			if w != g {
				maxDiff = math.Inf(1)
			}
			continue
		}
		maxDiff = max(maxDiff, math.Abs(float64(w)-float64(g)))
	}
	if firstBad >= 0 {
		t.Fatalf("%s: %d of %d values differ (first at %d: want %v got %v), max abs diff %g",
			msg, nDiffBits, len(want), firstBad, want[firstBad], got[firstBad], maxDiff)
	}
	require.LessOrEqual(t, maxDiff, tol, msg)
}

func f32bits(x float32) uint32 { return math.Float32bits(x) }

func f64bits(x float64) uint64 { return math.Float64bits(x) }
