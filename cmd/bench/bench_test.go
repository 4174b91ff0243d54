package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{3}, 3},
		{"odd", []float64{5, 1, 3}, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"five runs", []float64{0.11, 0.09, 0.5, 0.1, 0.12}, 0.11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			assert.InDelta(t, tc.want, Median(tc.in), 1e-12)
			assert.Equal(t, in, tc.in, "input left unsorted")
		})
	}
	assert.True(t, math.IsNaN(Median(nil)))
}

func TestRatio(t *testing.T) {
	assert.InDelta(t, 2.0, Ratio(4, 2), 1e-12)
	for _, bad := range [][2]float64{{0, 1}, {1, 0}, {-1, 2}, {math.Inf(1), 1}, {math.NaN(), 1}} {
		assert.True(t, math.IsNaN(Ratio(bad[0], bad[1])), "%v", bad)
	}
}

func TestParseResult(t *testing.T) {
	good := `{"row":"gpt2","stack":"go","steps":2,"warmup":1,"threads":2,"seconds":4,"steps_per_s":0.5,"items_per_s":256,"first_step_s":9.5,"peak_rss_mb":1500}`
	for _, tc := range []struct {
		name, out, row, stack, err string
	}{
		{"line only", good, "gpt2", "go", ""},
		{"after log lines", "loading…\n{not this}\nwarning\n" + good + "\n\n", "gpt2", "go", ""},
		{"no line", "Traceback (most recent call last):\n  boom", "gpt2", "go", "printed no JSON line"},
		{"bad json", `{"row":"gpt2",`, "gpt2", "go", "bad JSON line"},
		{"unknown field", `{"row":"gpt2","stack":"go","speed":1}`, "gpt2", "go", "bad JSON line"},
		{"other row", good, "roberta", "go", `answered for row "gpt2"`},
		{"other stack", good, "gpt2", "python", `stack "go"`},
		{"worker error", `{"row":"mmlu","stack":"go","error":"no such file"}`, "mmlu", "go", "no such file"},
		{"zero rate", strings.Replace(good, `"steps_per_s":0.5`, `"steps_per_s":0`, 1), "gpt2", "go", "steps_per_s = 0"},
		{"missing rss", strings.Replace(good, `,"peak_rss_mb":1500`, ``, 1), "gpt2", "go", "peak_rss_mb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResult(tc.out, tc.row, tc.stack)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Result{Row: "gpt2", Stack: "go", Steps: 2, Warmup: 1, Threads: 2, Seconds: 4, StepsPerS: 0.5,
				ItemsPerS: 256, FirstStep: 9.5, PeakRSSMB: 1500}, r)
		})
	}
}

func TestProcParsers(t *testing.T) {
	stat := "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 12 3 0 0 20 0 9 0 123456 987654321 2500 18446744073709551615"
	ticks, err := ParseStartTicks(stat)
	require.NoError(t, err)
	assert.Equal(t, int64(123456), ticks)
	_, err = ParseStartTicks("4242 prog S 1")
	require.ErrorContains(t, err, "no ')'")
	_, err = ParseStartTicks("4242 (prog) S 1 2 3")
	require.ErrorContains(t, err, "fields")

	up, err := ParseUptime("6245.31 12001.80\n")
	require.NoError(t, err)
	assert.InDelta(t, 6245.31, up, 1e-9)
	_, err = ParseUptime("")
	require.Error(t, err)

	status := "Name:\tbench\nVmPeak:\t 3000000 kB\nVmHWM:\t 1536000 kB\nVmRSS:\t  800000 kB\n"
	for _, tc := range []struct {
		key  string
		want int64
		err  string
	}{{"VmHWM", 1536000, ""}, {"VmRSS", 800000, ""}, {"VmSwap", 0, "no VmSwap line"}} {
		kb, err := ParseStatusKB(status, tc.key)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, kb, tc.key)
	}

	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	assert.Equal(t, "AMD EPYC 7B13", ParseCPUModel(cpuinfo))
	assert.Equal(t, "unknown CPU", ParseCPUModel("processor : 0\n"))
	assert.Equal(t, "AMD EPYC 7B13, 2 cores, 2 libtorch threads", Machine{CPU: "AMD EPYC 7B13", Cores: 2, Threads: 2}.String())
}

// A real process reads its own start time and peak memory.
func TestProcSelf(t *testing.T) {
	start, err := processStart()
	require.NoError(t, err)
	assert.Less(t, start.Unix(), int64(1)<<62)
	hwm, err := statusMB("VmHWM")
	require.NoError(t, err)
	assert.Greater(t, hwm, 1.0)
}

func TestSummarizeAndTable(t *testing.T) {
	runs := func(stack string, rates ...float64) []Result {
		var out []Result
		for i, r := range rates {
			out = append(out, Result{Row: "gpt2", Stack: stack, StepsPerS: r, ItemsPerS: 512 * r, FirstStep: 10 + float64(i), PeakRSSMB: 1000 + float64(i)})
		}
		return out
	}
	proj, peer := runs("go", 0.2, 0.25, 0.3), runs("python", 0.1, 0.2, 0.15)
	pm, qm := Summarize(proj), Summarize(peer)
	assert.Equal(t, Stats{StepsPerS: 0.25, ItemsPerS: 128, FirstStep: 11, PeakRSSMB: 1001}, pm)
	assert.InDelta(t, 0.15, qm.StepsPerS, 1e-12)

	rows := []RowReport{
		{Row: "gpt2", Title: "B=4 T=128", Workload: "GPT-2 training", Unit: "tokens", Project: proj, Peer: peer, ProjMed: &pm, PeerMed: &qm},
		{Row: "smollm2", Title: "SmolLM2", Unit: "tokens", Skipped: "SmolLM2 GGUF file not found (pass -gguf)"},
		{Row: "mmlu", Title: "MMLU", Unit: "prompts"},
	}
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, rows))
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 1+4+1+1+1, out)
	assert.Regexp(t, `^row +metric +project \(Go\) +peer \(PyTorch\+PEFT\) +project/peer +better$`, lines[0])
	assert.Regexp(t, `^gpt2 \(B=4 T=128\) +steps/s +0\.25 +0\.15 +1\.67 +higher$`, lines[1])
	assert.Regexp(t, `^ +tokens/s +128 +76\.8 +1\.67 +higher$`, lines[2])
	assert.Regexp(t, `^ +start→1st step s +11\.00 +11\.00 +1\.00 +lower$`, lines[3])
	assert.Regexp(t, `^ +peak RSS MiB +1001 +1001 +1\.00 +lower$`, lines[4])
	assert.Regexp(t, `^smollm2 \(SmolLM2\) +skipped: SmolLM2 GGUF file not found \(pass -gguf\)`, lines[5])
	assert.Regexp(t, `^mmlu \(MMLU\) +skipped: no measurements`, lines[6])
	assert.Equal(t, "gpt2: GPT-2 training", lines[7])
}

func TestCompareAnswers(t *testing.T) {
	r := func(a string) []Result { return []Result{{Answers: a}} }
	assert.Empty(t, compareAnswers(r("ABCD"), r("ABCD")))
	assert.Empty(t, compareAnswers(nil, r("ABCD")))
	assert.Equal(t, "predicted letters differ: project ABCD, peer ABDD (3 of 4 agree)", compareAnswers(r("ABCD"), r("ABDD")))
}

func TestGrowth(t *testing.T) {
	s := []RSSSample{{Step: 100, RSSMB: 900}, {Step: 200, RSSMB: 1000}, {Step: 300, RSSMB: 1010}, {Step: 400, RSSMB: 1030}}
	base, final, g, ok := Growth(s, 200)
	require.True(t, ok)
	assert.Equal(t, 1000.0, base)
	assert.Equal(t, 1030.0, final)
	assert.InDelta(t, 0.03, g, 1e-12)
	_, _, _, ok = Growth(s, 400)
	assert.False(t, ok, "no sample after the baseline")
	_, _, _, ok = Growth(s, 500)
	assert.False(t, ok)
}

func TestFlagsAndPlan(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		o, _, err := parseFlags([]string{"-gguf", "m.gguf", "-threads", "2"})
		require.NoError(t, err)
		assert.Equal(t, 5, o.runs)
		plan, err := o.Plan()
		require.NoError(t, err)
		require.Len(t, plan, 4)
		assert.Equal(t, WorkerOptions{Row: "gpt2", Batch: 8, Seq: 128, Warmup: 1, Steps: 5, Threads: 2, GGUF: "m.gguf",
			Device: "cpu", DType: "float32"}, plan[0].Opts)
		assert.Equal(t, "B=8 T=128, 1 warm-up + 5 steps", plan[0].Title)
		assert.Contains(t, plan[0].Workload, "GPT-2-small shape")
		assert.Equal(t, "tokens", plan[2].Unit)
		mm := plan[3]
		assert.Equal(t, "prompts", mm.Unit)
		assert.Equal(t, WorkerOptions{Row: "mmlu", Batch: 1, Seq: 0, Warmup: 2, Steps: 40, Threads: 2, GGUF: "m.gguf",
			Prompts: "out/bench/mmlu_prompts.json", Device: "cpu", DType: "float32"}, mm.Opts)
		assert.Equal(t, []string{"-worker", "mmlu", "-batch", "1", "-seq", "0", "-warmup", "2", "-steps", "40", "-threads", "2",
			"-gguf", "m.gguf", "-prompt-file", "out/bench/mmlu_prompts.json", "-device", "cpu", "-dtype", "float32"}, mm.Opts.Args())
		assert.Equal(t, []string{"mmlu", "--batch", "1", "--seq", "0", "--warmup", "2", "--steps", "40", "--threads", "2",
			"--gguf", "m.gguf", "--prompts", "out/bench/mmlu_prompts.json", "--device", "cpu", "--dtype", "float32"}, mm.Opts.PeerArgs())
	})
	t.Run("quick keeps explicit flags", func(t *testing.T) {
		o, _, err := parseFlags([]string{"-quick", "-cls-batch", "3", "-rows", "gpt2, smollm2"})
		require.NoError(t, err)
		assert.Equal(t, 2, o.runs)
		plan, err := o.Plan()
		require.NoError(t, err)
		require.Len(t, plan, 2)
		assert.Equal(t, 3, plan[0].Opts.Batch)
		assert.Equal(t, 64, plan[0].Opts.Seq)
		assert.Equal(t, 1, plan[0].Opts.Steps)
		assert.Equal(t, "SmolLM2 GGUF file not found (pass -gguf)", plan[1].Skip)
	})
	t.Run("worker flags", func(t *testing.T) {
		for _, w := range []WorkerOptions{
			{Row: "roberta", Batch: 2, Seq: 16, Warmup: 0, Steps: 3, Threads: 1, Device: "cpu", DType: "float32"},
			{Row: "llama7b-lm", Batch: 4, Seq: 512, Warmup: 1, Steps: 2, Threads: 16, Device: "cuda", DType: "bfloat16",
				Model: "/tmp/7b", GradCkpt: true},
		} {
			o, _, err := parseFlags(w.Args())
			require.NoError(t, err)
			assert.Equal(t, w, o.worker)
		}
	})
	t.Run("7b", func(t *testing.T) {
		dir := t.TempDir()
		o, _, err := parseFlags([]string{"-7b", "-runs", "2", "-llama7b", dir})
		require.NoError(t, err)
		assert.Equal(t, 2, o.runs, "an explicit flag wins over -7b's")
		assert.Equal(t, "bfloat16", o.dtype)
		plan, err := o.Plan()
		require.NoError(t, err)
		require.Len(t, plan, 2)
		assert.Equal(t, "llama7b-cls", plan[0].Name)
		assert.Contains(t, plan[0].Skip, "no checkpoint in")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644))
		plan, err = o.Plan()
		require.NoError(t, err)
		assert.Empty(t, plan[1].Skip)
		assert.Equal(t, WorkerOptions{Row: "llama7b-lm", Batch: 1, Seq: 64, Warmup: 1, Steps: 2, Threads: o.threads,
			Device: "cpu", DType: "bfloat16", Model: dir, GradCkpt: true}, plan[1].Opts)
		assert.Equal(t, "B=1 T=64, 1 warm-up + 2 steps, cpu bfloat16", plan[1].Title)
		assert.Subset(t, plan[1].Opts.PeerArgs(), []string{"--model", dir, "--grad-checkpoint", "--dtype", "bfloat16"})
	})
	t.Run("unknown row", func(t *testing.T) {
		o, _, err := parseFlags([]string{"-rows", "gpt2,bert"})
		require.NoError(t, err)
		_, err = o.Plan()
		require.ErrorContains(t, err, `unknown row "bert"`)
	})
}

func TestParseGPUMemory(t *testing.T) {
	csv := "4242, 1536\n17, 900\n4242, 512\n\nbad line\n"
	assert.Equal(t, 2048.0, ParseGPUMemory(csv, 4242), "a process on two lines (two contexts) adds up")
	assert.Equal(t, 900.0, ParseGPUMemory(csv, 17))
	assert.Equal(t, 0.0, ParseGPUMemory(csv, 5))
	assert.Equal(t, 0.0, ParseGPUMemory("No running processes found", 5))
}
