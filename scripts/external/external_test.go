// Package external tests the library as a Go user outside this repository uses it: a gotch project of its own,
// prepared with scripts/use.sh, imports loraplus, finetunes two Linear layers with LoRA+ and saves a PEFT adapter.
package external

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// goEnv is the environment of a user's shell: none of the variables a test run or this repository's Makefile
// may set for the go command.
func goEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOWORK", "GOFLAGS":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s in %s:\n%s", name, strings.Join(args, " "), dir, out)
	return string(out)
}

// TestExternalModule follows the README's recipe step by step: a new module with its own gotch model, `go get` of
// gotch as any gotch project has, scripts/use.sh, then `go build` and `go run` of the program in
// testdata/mymodel.
func TestExternalModule(t *testing.T) {
	root := reftest.Root(t)
	dir := filepath.Join(t.TempDir(), "mymodel") // outside the repository
	require.NoError(t, os.MkdirAll(dir, 0o755))
	src, err := os.ReadFile(filepath.Join(root, "scripts", "external", "testdata", "mymodel", "main.go"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644))

	// 1. An existing gotch project: a module that requires gotch.
	run(t, dir, "go", "mod", "init", "example.com/mymodel")
	run(t, dir, "go", "get", "github.com/sugarme/gotch@v0.9.1")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)

	// 2. The recipe: one command, which writes DIR/go.work and nothing else in DIR.
	log := run(t, root, "bash", "scripts/use.sh", dir)
	require.Contains(t, log, "replaces github.com/sugarme/gotch with "+root+"/.gotch")
	work, err := os.ReadFile(filepath.Join(dir, "go.work"))
	require.NoError(t, err)
	require.Contains(t, string(work), root+"/.gotch")
	after, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.Equal(t, string(gomod), string(after), "scripts/use.sh changed go.mod")
	// Running it again changes nothing.
	run(t, root, "bash", "scripts/use.sh", dir)
	again, err := os.ReadFile(filepath.Join(dir, "go.work"))
	require.NoError(t, err)
	require.Equal(t, string(work), string(again))

	// 3. go build and go run, as the user would.
	run(t, dir, "go", "vet", ".")
	run(t, dir, "go", "build", "-o", "mymodel", ".")
	ldd := run(t, dir, "ldd", "./mymodel")
	require.Contains(t, ldd, filepath.Join(root, ".venv"), "the program links the libtorch set-up installed")
	out := run(t, dir, "go", "run", ".", t.TempDir())
	t.Log(out)

	m := regexp.MustCompile(`loss ([0-9.]+) -> ([0-9.]+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	first, _ := strconv.ParseFloat(m[1], 64)
	last, _ := strconv.ParseFloat(m[2], 64)
	require.Less(t, last, 0.9*first, "the loss fell")

	m = regexp.MustCompile(`adapter (\S+): (\d+) tensors, loaded back equal: (\w+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.Equal(t, "4", m[2], "lora_A and lora_B of fc1 and fc2")
	require.Equal(t, "true", m[3])
	// The adapter is a PEFT adapter this library reads.
	st, err := weights.OpenSafetensors(filepath.Join(m[1], "adapter_model.safetensors"))
	require.NoError(t, err)
	defer st.Close()
	require.ElementsMatch(t, []string{
		"base_model.model.fc1.lora_A.weight", "base_model.model.fc1.lora_B.weight",
		"base_model.model.fc2.lora_A.weight", "base_model.model.fc2.lora_B.weight",
	}, st.Names())
}
