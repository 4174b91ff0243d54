package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/cmd/internal/modelpath"
	"github.com/loraplus-go/loraplus/llama/generate"
	"github.com/loraplus-go/loraplus/nn"
)

// options are the parsed command line.
type options struct {
	model       string
	modelErr    error // why -model was not found; reported when the model is needed
	adapter     string
	compareBase bool
	tokenizer   string
	prompt      string
	system      string
	chat        string // auto, on or off
	gen         generate.Options
	genConfig   *generationConfig // the model directory's generation_config.json; nil without one
	threads     int
	device      string
	dtype       gotch.DType
}

// parseFlags reads the command line. Values that cannot run are errors naming the flag. A Hugging Face model
// directory's generation_config.json gives the defaults of the decoding flags not on the command line.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: generate -model DIR_OR_GGUF [-adapter DIR [-compare-base]] [-prompt TEXT] [flags]\n\n"+
			"Continues each prompt (-prompt, else each line of standard input) with a Llama model, in its chat\n"+
			"template when it has one. Greedy unless -temperature > 0.\n\n")
		fs.PrintDefaults()
	}
	var dtype string
	fs.StringVar(&o.model, "model", "", "Llama model: Hugging Face directory, GGUF file, or a name found in models/NAME or the Hugging Face "+
		"cache (default: the reference environment's SmolLM2-135M-Instruct GGUF, when installed)")
	fs.StringVar(&o.adapter, "adapter", "", "LoRA adapter directory (cmd/llama's OUT/checkpoint-STEP or PEFT's save_pretrained)")
	fs.BoolVar(&o.compareBase, "compare-base", false, "with -adapter, answer every prompt with the base model first, then with the adapter")
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer directory or GGUF file (default: the model)")
	fs.StringVar(&o.prompt, "prompt", "", "the prompt (default: each line of standard input is one)")
	fs.StringVar(&o.system, "system", "", "system message of the chat template (default: the template's own, if any)")
	fs.StringVar(&o.chat, "chat", "auto", "wrap prompts in the model's chat template: auto (when it has one), on or off (raw text)")
	fs.IntVar(&o.gen.MaxNewTokens, "max-new-tokens", 256, "most tokens to generate per prompt")
	fs.Float64Var(&o.gen.Temperature, "temperature", 0, "sampling temperature; 0 decodes greedily")
	fs.IntVar(&o.gen.TopK, "top-k", 50, "when sampling, keep the K most likely tokens (0: all; 50 is transformers' default)")
	fs.Float64Var(&o.gen.TopP, "top-p", 1, "when sampling, keep the most likely tokens up to probability P (1: all)")
	fs.Float64Var(&o.gen.RepetitionPenalty, "repetition-penalty", 1, "divide the logits of tokens already seen by this (1: off)")
	var seed int64
	fs.Int64Var(&seed, "seed", 0, "sampling seed")
	fs.IntVar(&o.threads, "threads", 0, "libtorch intra-op threads (0 keeps libtorch's default)")
	fs.StringVar(&o.device, "device", "auto", "cpu, cuda or auto (cuda when available)")
	fs.StringVar(&dtype, "dtype", "float32", "base weight dtype: float32 or bfloat16 (float16 on cuda)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s (quote the prompt: -prompt \"...\")", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if path, err := modelpath.ForFlag(o.model, modelpath.SmolLM2(), os.Getenv); err != nil {
		o.modelErr = err
	} else {
		o.model = path
		if err := applyGenerationConfig(o, set); err != nil {
			return nil, err
		}
	}
	if o.tokenizer == "" {
		o.tokenizer = o.model
	}
	switch {
	case seed < 0:
		return nil, fmt.Errorf("-seed must be >= 0, got %d", seed)
	case o.chat != "auto" && o.chat != "on" && o.chat != "off":
		return nil, fmt.Errorf("-chat: want auto, on or off, got %q", o.chat)
	case o.compareBase && o.adapter == "":
		return nil, fmt.Errorf("-compare-base compares the base model with an adapter: add -adapter DIR")
	case o.system != "" && o.chat == "off":
		return nil, fmt.Errorf("-system needs the chat template: drop -chat off")
	case o.threads < 0:
		return nil, fmt.Errorf("-threads: want >= 0, got %d", o.threads)
	case o.device != "cpu" && o.device != "cuda" && o.device != "auto":
		return nil, fmt.Errorf("-device: want cpu, cuda or auto, got %q", o.device)
	}
	o.gen.Seed = uint64(seed)
	if err := o.gen.Check(); err != nil {
		name := map[string]string{"MaxNewTokens": "-max-new-tokens", "Temperature": "-temperature", "TopK": "-top-k",
			"TopP": "-top-p", "RepetitionPenalty": "-repetition-penalty"}
		msg := strings.TrimPrefix(err.Error(), "generate: ")
		for field, flagName := range name {
			if strings.HasPrefix(msg, field+" ") {
				msg = flagName + strings.TrimPrefix(msg, field)
			}
		}
		return nil, errors.New(msg)
	}
	var err error
	if o.dtype, err = nn.ParseDType(dtype); err != nil {
		return nil, err
	}
	return o, nil
}

// generationConfig is what this command reads of transformers' generation_config.json.
type generationConfig struct {
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopK              *int            `json:"top_k"`
	TopP              *float64        `json:"top_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	MaxNewTokens      *int            `json:"max_new_tokens"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"` // an id or a list of ids
}

// applyGenerationConfig sets the decoding options that the model directory's generation_config.json names and
// the command line does not, as transformers' generate takes them: sampling only with do_sample true.
func applyGenerationConfig(o *options, set map[string]bool) error {
	gc, err := readGenerationConfig(o.model)
	if err != nil || gc == nil {
		return err
	}
	o.genConfig = gc
	sampling := gc.DoSample != nil && *gc.DoSample
	if sampling && !set["temperature"] {
		o.gen.Temperature = 1
		if gc.Temperature != nil {
			o.gen.Temperature = *gc.Temperature
		}
	}
	if gc.TopK != nil && !set["top-k"] {
		o.gen.TopK = *gc.TopK
	}
	if gc.TopP != nil && !set["top-p"] {
		o.gen.TopP = *gc.TopP
	}
	if gc.RepetitionPenalty != nil && !set["repetition-penalty"] {
		o.gen.RepetitionPenalty = *gc.RepetitionPenalty
	}
	if gc.MaxNewTokens != nil && !set["max-new-tokens"] {
		o.gen.MaxNewTokens = *gc.MaxNewTokens
	}
	return nil
}

// readGenerationConfig reads dir/generation_config.json; nil when the model is a file (GGUF) or has none.
func readGenerationConfig(dir string) (*generationConfig, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, nil // a missing model is reported when it loads
	}
	path := filepath.Join(dir, "generation_config.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var gc generationConfig
	if err := json.Unmarshal(b, &gc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if gc.Temperature != nil && (*gc.Temperature < 0 || math.IsNaN(*gc.Temperature)) {
		return nil, fmt.Errorf("%s: temperature: want >= 0, got %v", path, *gc.Temperature)
	}
	return &gc, nil
}

// eosIDs returns the ids of generation_config.json's eos_token_id (an id or a list).
func (gc *generationConfig) eosIDs(path string) ([]int, error) {
	if gc == nil || len(gc.EOSTokenID) == 0 || string(gc.EOSTokenID) == "null" {
		return nil, nil
	}
	var one int
	if json.Unmarshal(gc.EOSTokenID, &one) == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(gc.EOSTokenID, &many); err != nil {
		return nil, fmt.Errorf("%s: eos_token_id: want an id or a list of ids: %w", path, err)
	}
	return many, nil
}
