package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/loraplus-go/loraplus/llama/generate"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// session holds what every prompt needs.
type session struct {
	o      *options
	lm     *nnllama.ForCausalLM
	tok    *tokenizer.Pipeline
	tmpl   *tokenizer.ChatTemplate // nil: raw text
	gen    generate.Options
	stdout io.Writer
	stderr io.Writer
	label  string // printed before each answer when answers are compared ("[base] ")
	header bool   // print each prompt before its answer
}

// generateAll loads the model and answers every prompt.
func generateAll(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.modelErr != nil {
		return o.modelErr
	}
	if o.threads > 0 {
		if err := nn.SetNumThreads(o.threads); err != nil {
			return fmt.Errorf("-threads: %w", err)
		}
	}
	dev, err := nn.ParseDevice(o.device)
	if err != nil {
		return err
	}
	s := &session{o: o, stdout: stdout, stderr: stderr, gen: o.gen}
	if s.tok, err = tokenizer.Load(o.tokenizer); err != nil {
		return err
	}
	if o.chat != "off" {
		if s.tmpl, err = tokenizer.LoadChatTemplate(o.tokenizer); err != nil {
			return err
		}
		if s.tmpl == nil && o.chat == "on" {
			return fmt.Errorf("-chat on: %s has no chat template (tokenizer.chat_template, chat_template.jinja or tokenizer_config.json)", o.tokenizer)
		}
	}
	if s.tmpl == nil && o.system != "" {
		return fmt.Errorf("-system: %s has no chat template to put a system message in", o.tokenizer)
	}
	t0 := time.Now()
	if s.lm, err = nnllama.Load(o.model, nnllama.Options{DType: o.dtype, Device: dev}); err != nil {
		return err
	}
	if s.gen.Stop, err = stopTokens(o, s.tok); err != nil {
		return err
	}
	decoding := "greedy"
	if s.gen.Temperature > 0 {
		decoding = fmt.Sprintf("sampling (temperature %g, top-k %d, top-p %g, seed %d)", s.gen.Temperature, s.gen.TopK, s.gen.TopP, s.gen.Seed)
	}
	fmt.Fprintf(stderr, "generate: %s loaded in %.1fs on %s; chat template: %v; %s; stop tokens %v\n",
		o.model, time.Since(t0).Seconds(), nn.DeviceName(dev), s.tmpl != nil, decoding, s.gen.Stop)

	var prompts []string
	var next func() (string, bool, error)
	switch {
	case o.prompt != "":
		prompts = []string{o.prompt}
	case o.compareBase: // the base model answers every prompt before the adapter is attached
		if prompts, err = readLines(stdin); err != nil {
			return err
		}
	default:
		s.header = true
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
		next = func() (string, bool, error) {
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					return line, true, nil
				}
			}
			return "", false, sc.Err()
		}
	}
	if next == nil {
		next = listed(prompts)
	}
	if o.compareBase {
		s.header, s.label = true, "[base] "
		if err := s.answerAll(ctx, next); err != nil {
			return err
		}
		next = listed(prompts)
		s.label = "[adapter " + filepath.Base(filepath.Clean(o.adapter)) + "] "
	}
	if o.adapter != "" {
		m, err := loraplus.LoadAdapter(s.lm, o.adapter)
		if err != nil {
			return err
		}
		if err := m.Merge(); err != nil {
			return fmt.Errorf("%s: merge: %w", o.adapter, err)
		}
		fmt.Fprintf(stderr, "generate: adapter %s attached and merged (%d tensors)\n", o.adapter, len(m.Params))
	}
	return s.answerAll(ctx, next)
}

// answerAll answers the prompts next yields, one after the other.
func (s *session) answerAll(ctx context.Context, next func() (string, bool, error)) error {
	for {
		prompt, ok, err := next()
		if err != nil {
			return fmt.Errorf("reading prompts: %w", err)
		}
		if !ok {
			return nil
		}
		if err := s.answer(ctx, prompt); err != nil {
			return err
		}
	}
}

// answer streams the model's continuation of one prompt to stdout and a summary line to stderr.
func (s *session) answer(ctx context.Context, prompt string) error {
	ids, err := s.promptIDs(prompt)
	if err != nil {
		return err
	}
	if s.header {
		fmt.Fprintf(s.stdout, ">>> %s\n", prompt)
	}
	fmt.Fprint(s.stdout, s.label)
	st := &streamer{tok: s.tok, w: s.stdout}
	t0 := time.Now()
	out, err := generate.Generate(ctx, s.lm, ids, s.gen, st.add)
	if ferr := st.flush(); err == nil {
		err = ferr
	}
	fmt.Fprintln(s.stdout)
	if err != nil {
		return err
	}
	sec := time.Since(t0).Seconds()
	fmt.Fprintf(s.stderr, "generate: %d prompt tokens, %d new tokens in %.2fs (%.1f tokens/s), finish: %s\n",
		len(ids), len(out.Tokens), sec, float64(len(out.Tokens))/sec, out.FinishReason)
	return nil
}

// promptIDs lays the prompt out in the chat template, when there is one, and tokenizes it as transformers'
// apply_chat_template does (the template writes the special tokens: none are added); raw text gets the
// tokenizer's special tokens, as tokenizer(text) does (Llama: BOS).
func (s *session) promptIDs(prompt string) ([]int, error) {
	if s.tmpl == nil {
		return s.tok.Encode(prompt, true), nil
	}
	var msgs []tokenizer.Message
	if s.o.system != "" {
		msgs = append(msgs, tokenizer.Message{Role: "system", Content: s.o.system})
	}
	msgs = append(msgs, tokenizer.Message{Role: "user", Content: prompt})
	text, err := s.tmpl.Render(msgs, true, tokenizer.SpecialTokenVars(s.tok))
	if err != nil {
		return nil, err
	}
	return s.tok.Encode(text, false), nil
}

// stopTokens returns the ids that end an answer: the tokenizer's EOS, a GGUF file's end-of-turn token
// (tokenizer.ggml.eot_token_id) and generation_config.json's eos_token_id (read with the flags).
func stopTokens(o *options, tok tokenizer.Tokenizer) ([]int, error) {
	var ids []int
	if id := tok.EOS(); id != tokenizer.NoToken {
		ids = append(ids, id)
	}
	if gguf.IsFile(o.model) {
		f, err := gguf.Open(o.model)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if f.Has("tokenizer.ggml.eot_token_id") {
			id, err := f.Uint("tokenizer.ggml.eot_token_id")
			if err != nil {
				return nil, err
			}
			ids = append(ids, int(id))
		}
	}
	more, err := o.genConfig.eosIDs(filepath.Join(o.model, "generation_config.json"))
	if err != nil {
		return nil, err
	}
	ids = append(ids, more...)
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// listed yields the prompts in order.
func listed(prompts []string) func() (string, bool, error) {
	i := 0
	return func() (string, bool, error) {
		if i == len(prompts) {
			return "", false, nil
		}
		i++
		return prompts[i-1], true, nil
	}
}

// readLines returns the non-empty lines of r.
func readLines(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading prompts: %w", err)
	}
	return lines, nil
}

// streamer prints an answer as its tokens come: it decodes all the tokens so far (special tokens skipped) and
// writes what is new, holding back while the text ends in an incomplete UTF-8 sequence (a character split across
// byte tokens).
type streamer struct {
	tok     tokenizer.Tokenizer
	w       io.Writer
	ids     []int
	printed string
}

func (s *streamer) add(id int) error {
	s.ids = append(s.ids, id)
	text := s.tok.Decode(s.ids, true)
	if strings.HasSuffix(text, "\uFFFD") {
		return nil
	}
	return s.write(text)
}

// flush writes what add held back.
func (s *streamer) flush() error { return s.write(s.tok.Decode(s.ids, true)) }

func (s *streamer) write(text string) error {
	n := 0 // the length of the printed text's prefix that text keeps
	for n < len(text) && n < len(s.printed) && text[n] == s.printed[n] {
		n++
	}
	if n < len(s.printed) {
		n = len(s.printed) // decoding changed text already printed: print only what is beyond it
	}
	if n >= len(text) {
		return nil
	}
	_, err := io.WriteString(s.w, text[n:])
	s.printed = text
	return err
}
