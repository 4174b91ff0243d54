package main

import (
	"flag"

	"fmt"
	"github.com/sugarme/gotch"
	"io"
	"strconv"
	"strings"
)

// options are the command's flags after parsing and checking.
type options struct {
	model    string
	adapter  string
	out      string
	format   string
	maxShard int64
	dtype    string // hf: float32, bfloat16 or float16
}

// hfDTypes are the values of -dtype: config.json's torch_dtype names.
var hfDTypes = map[string]gotch.DType{"float32": gotch.Float, "bfloat16": gotch.BFloat16, "float16": gotch.Half}

// formats are the values of -format.
var formats = []string{"hf", "gguf-f16", "gguf-q8_0"}

// parseFlags reads the command line; values that cannot run are errors naming the flag.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: export -model BASE [-adapter DIR] -out OUT -format hf|gguf-f16|gguf-q8_0\n\n"+
			"Merges a PEFT LoRA adapter into a Llama base (Hugging Face directory or GGUF file) and writes a Hugging\n"+
			"Face model directory or a GGUF file.\n\n")
		fs.PrintDefaults()
	}
	var shard string
	fs.StringVar(&o.model, "model", "", "base Llama model: Hugging Face directory or GGUF file")
	fs.StringVar(&o.adapter, "adapter", "", "PEFT LoRA adapter directory to merge (none: convert the base as it is)")
	fs.StringVar(&o.out, "out", "", "output: a directory for hf, a .gguf file for gguf-*; must not exist")
	fs.StringVar(&o.format, "format", "hf", "hf, gguf-f16 or gguf-q8_0")
	fs.StringVar(&o.dtype, "dtype", "float32", "hf: dtype of the written weights: float32, bfloat16 or float16 (the merge is fp32)")
	fs.StringVar(&shard, "max-shard-size", "2GB", "hf: largest safetensors shard (bytes, or with KB, MB, GB, KiB, MiB, GiB)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.model == "":
		return nil, fmt.Errorf("-model is required")
	case o.out == "":
		return nil, fmt.Errorf("-out is required")
	}
	ok := false
	for _, f := range formats {
		ok = ok || f == o.format
	}
	if !ok {
		return nil, fmt.Errorf("-format %q: want one of %s", o.format, strings.Join(formats, ", "))
	}
	if _, ok := hfDTypes[o.dtype]; !ok {
		return nil, fmt.Errorf("-dtype %q: want float32, bfloat16 or float16", o.dtype)
	}
	if o.dtype != "float32" && o.format != "hf" {
		return nil, fmt.Errorf("-dtype %s applies to -format hf only (%s sets its own types)", o.dtype, o.format)
	}
	n, err := parseSize(shard)
	if err != nil {
		return nil, fmt.Errorf("-max-shard-size: %w", err)
	}
	o.maxShard = n
	return o, nil
}

// parseSize reads a byte count as transformers' max_shard_size does: a number with an optional unit, KB/MB/GB
// decimal and KiB/MiB/GiB binary.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range units {
		if num, ok := strings.CutSuffix(u, x.suffix); ok {
			u, mult = strings.TrimSpace(num), x.mult
			break
		}
	}
	v, err := strconv.ParseFloat(u, 64)
	if err != nil || !(v >= 1) || v*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a positive size such as 2GB or 500MB", s)
	}
	return int64(v * float64(mult)), nil
}
