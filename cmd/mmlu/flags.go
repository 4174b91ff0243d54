package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/llama/mmlu"
	"github.com/loraplus-go/loraplus/nn"
)

// options are the parsed command line.
type options struct {
	model     string
	adapter   string
	tokenizer string
	dataDir   string
	split     string
	subjects  []string
	limit     int
	shots     int
	maxLen    int // 0: the model's max_position_embeddings
	batch     int
	padLeft   bool
	threads   int
	device    string
	dtype     gotch.DType
	out       string
}

// parseFlags reads the command line. Values that cannot run are errors naming the flag.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mmlu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: mmlu -model DIR_OR_GGUF [-adapter DIR] -data DIR [flags]\n\n"+
			"Scores a Llama model on MMLU with the Hendrycks k-shot protocol: the answer is the choice among\n"+
			"\" A\", \" B\", \" C\", \" D\" with the largest next-token logit after \"Answer:\".\n\n")
		fs.PrintDefaults()
	}
	var subjects, pad, dtype string
	fs.StringVar(&o.model, "model", "", "Llama model: Hugging Face directory or GGUF file")
	fs.StringVar(&o.adapter, "adapter", "", "PEFT LoRA adapter directory, merged into the weights before scoring")
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer directory, GGUF file, tokenizer.json or tokenizer.model (default: the model)")
	fs.StringVar(&o.dataDir, "data", "../shared/data/mmlu", "MMLU root holding dev/, val/ and test/")
	fs.StringVar(&o.split, "split", "test", "split to score: test or val")
	fs.StringVar(&subjects, "subjects", "", "comma-separated subjects (default: all)")
	fs.IntVar(&o.limit, "limit", 0, "score only the first N questions of each subject (0: all)")
	fs.IntVar(&o.shots, "shots", 5, "dev examples per prompt")
	fs.IntVar(&o.maxLen, "max-len", 0, "largest prompt in tokens; shots are dropped from the end to fit (0: the model's max_position_embeddings)")
	fs.IntVar(&o.batch, "batch", 1, "prompts per forward pass (padded; on the CPU 1 is fastest, larger batches help on CUDA)")
	fs.StringVar(&pad, "pad", "right", "padding side of batched prompts: right or left")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "libtorch intra-op threads")
	fs.StringVar(&o.device, "device", "cpu", "cpu, cuda or auto (cuda when available)")
	fs.StringVar(&dtype, "dtype", "float32", "base weight dtype: float32 or bfloat16 (float16 on cuda)")
	fs.StringVar(&o.out, "out", "out/mmlu/results.json", "JSON results file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	o.subjects = mmlu.ParseSubjectList(subjects)
	switch {
	case o.model == "":
		return nil, fmt.Errorf("-model is required")
	case o.split != "test" && o.split != "val":
		return nil, fmt.Errorf("-split: want test or val, got %q", o.split)
	case o.limit < 0:
		return nil, fmt.Errorf("-limit: want >= 0, got %d", o.limit)
	case o.shots < 0:
		return nil, fmt.Errorf("-shots: want >= 0, got %d", o.shots)
	case o.maxLen < 0:
		return nil, fmt.Errorf("-max-len: want >= 0, got %d", o.maxLen)
	case o.batch < 1:
		return nil, fmt.Errorf("-batch: want >= 1, got %d", o.batch)
	case o.threads < 1:
		return nil, fmt.Errorf("-threads: want >= 1, got %d", o.threads)
	case pad != "right" && pad != "left":
		return nil, fmt.Errorf("-pad: want right or left, got %q", pad)
	case o.device != "cpu" && o.device != "cuda" && o.device != "auto":
		return nil, fmt.Errorf("-device: want cpu, cuda or auto, got %q", o.device)
	case o.out == "":
		return nil, fmt.Errorf("-out must name a file")
	}
	o.padLeft = pad == "left"
	var err error
	if o.dtype, err = nn.ParseDType(dtype); err != nil {
		return nil, err
	}
	return o, nil
}
