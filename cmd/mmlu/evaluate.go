package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/progress"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
)

// resultFile is the JSON written to -out: the run's settings, the report and every question's outcome.
type resultFile struct {
	Model        string    `json:"model"`
	Adapter      string    `json:"adapter,omitempty"`
	Tokenizer    string    `json:"tokenizer"`
	Data         string    `json:"data"`
	Split        string    `json:"split"`
	Shots        int       `json:"shots"`
	MaxLen       int       `json:"max_len"`
	Limit        int       `json:"limit"`
	Batch        int       `json:"batch"`
	Pad          string    `json:"pad"`
	Device       string    `json:"device"`
	DType        string    `json:"dtype"`
	Threads      int       `json:"threads"`
	ChoiceIDs    [4]int    `json:"choice_ids"`
	ChoiceTokens [4]string `json:"choice_tokens"`
	// LoadSeconds covers model, adapter and data; EvalSeconds tokenization and scoring.
	LoadSeconds   float64 `json:"load_seconds"`
	EvalSeconds   float64 `json:"eval_seconds"`
	PromptsPerSec float64 `json:"prompts_per_second"`
	mmlu.Report
	Results []mmlu.Result `json:"results"`
}

// evaluate loads the model, tokenizer and data, scores every selected question and writes the report.
func evaluate(o *options, stdout, stderr io.Writer) error {
	if err := nn.SetNumThreads(o.threads); err != nil {
		return fmt.Errorf("-threads: %w", err)
	}
	dev, err := nn.ParseDevice(o.device)
	if err != nil {
		return err
	}
	t0 := time.Now()
	subjects, err := mmlu.Load(o.dataDir, mmlu.LoadOptions{Split: o.split, Subjects: o.subjects, Limit: o.limit,
		NoDev: o.shots == 0})
	if err != nil {
		return err
	}
	tokPath := o.tokenizer
	if tokPath == "" {
		tokPath = o.model
	}
	tok, err := loadTokenizer(tokPath)
	if err != nil {
		return err
	}
	lm, err := nnllama.Load(o.model, nnllama.Options{DType: o.dtype, Device: dev})
	if err != nil {
		return err
	}
	if o.adapter != "" {
		m, err := loraplus.LoadAdapter(lm, o.adapter)
		if err != nil {
			return err
		}
		if err := m.Merge(); err != nil {
			return fmt.Errorf("%s: merge: %w", o.adapter, err)
		}
	}
	maxLen := o.maxLen
	if maxLen == 0 {
		maxLen = lm.Model.Config.MaxPositionEmbeddings
	}
	if maxLen <= 0 {
		maxLen = 2048
	}
	choices, err := mmlu.ChoiceIDs(tok)
	if err != nil {
		return err
	}
	res := resultFile{Model: o.model, Adapter: o.adapter, Tokenizer: tokPath, Data: o.dataDir, Split: o.split,
		Shots: o.shots, MaxLen: maxLen, Limit: o.limit, Batch: o.batch, Pad: map[bool]string{false: "right", true: "left"}[o.padLeft],
		Device: nn.DeviceName(dev), DType: o.dtype.String(), Threads: o.threads, ChoiceIDs: choices,
		LoadSeconds: time.Since(t0).Seconds()}
	for i, id := range choices {
		res.ChoiceTokens[i], _ = tok.Token(id)
	}
	total := 0
	for _, s := range subjects {
		total += len(s.Questions)
	}
	fmt.Fprintf(stderr, "mmlu: %d subjects, %d questions, %d-shot, max %d tokens, choice tokens %q = %v, %s %s, %d threads\n",
		len(subjects), total, o.shots, maxLen, res.ChoiceTokens, choices, res.Device, res.DType, o.threads)
	bar := progress.NewTo(stderr, "mmlu", total)
	bar.Unit = "prompts"
	t1 := time.Now()
	rep, results, err := mmlu.Evaluate(lm, tok, subjects, mmlu.EvalOptions{
		Shots: o.shots, MaxLen: maxLen, Batch: o.batch, PadLeft: o.padLeft,
		Progress: func(done, correct, _ int) { bar.Set(done, fmt.Sprintf("acc=%.3f", float64(correct)/float64(done))) },
	})
	if err != nil {
		return err
	}
	bar.Done()
	res.EvalSeconds = time.Since(t1).Seconds()
	if res.EvalSeconds > 0 {
		res.PromptsPerSec = float64(len(results)) / res.EvalSeconds
	}
	res.Report, res.Results = rep, results
	if err := writeResults(o.out, &res); err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mmlu: %d prompts in %.1f s (%.2f prompts/s), load %.1f s; results in %s\n",
		len(results), res.EvalSeconds, res.PromptsPerSec, res.LoadSeconds, o.out)
	return nil
}

// loadTokenizer reads a tokenizer directory, a GGUF file's metadata, a tokenizer.json or a tokenizer.model.
func loadTokenizer(path string) (*tokenizer.Pipeline, error) {
	switch {
	case strings.HasSuffix(path, ".model"):
		return tokenizer.LoadSentencePiece(path)
	case strings.HasSuffix(path, ".json"):
		return tokenizer.LoadTokenizerJSON(path)
	}
	return tokenizer.Load(path)
}

// writeResults writes the JSON results, creating the file's directory.
func writeResults(path string, r *resultFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
