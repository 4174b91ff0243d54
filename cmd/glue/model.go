package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/gpt2"
	"github.com/loraplus-go/loraplus/nn/roberta"
	"github.com/loraplus-go/loraplus/nn/tokenizer"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/loraplus-go/loraplus/nn/weights/gguf"
)

// modelKind holds what differs between the supported model types: the authors' default lr_A and targets, and
// the loader.
type modelKind struct {
	name    string
	lr      float64
	targets []string
	// frozenHead are the head tensors the authors kept frozen, the -freeze-head auto default.
	frozenHead []string
	// padToModel gives the tokenizer's pad id to the model (GPT-2 finds each sequence's last token by it).
	padToModel bool
	load       func(dir string, o nn.ClassifierOptions) (nn.SequenceClassifier, error)
	// positions, for a model with a learned position table, reads from config.json the longest sequence the
	// model takes and says where that number comes from; nil for Llama, whose rotary positions have no table.
	positions func(dir string) (n int, from string, err error)
}

// modelKinds are the supported config.json model types.
var modelKinds = map[string]modelKind{
	"gpt2": {name: "gpt2", lr: 2e-4, targets: []string{"c_attn", "c_proj", "c_fc"}, padToModel: true,
		load: func(dir string, o nn.ClassifierOptions) (nn.SequenceClassifier, error) {
			return gpt2.Load(dir, o)
		},
		positions: func(dir string) (int, string, error) {
			c, err := gpt2.ReadConfig(dir)
			return int(c.NPositions), fmt.Sprintf("n_positions in %s", filepath.Join(dir, weights.ConfigFile)), err
		}},
	"roberta": {name: "roberta", lr: 5e-5, targets: []string{"query", "value"},
		frozenHead: []string{"classifier.dense.weight", "classifier.dense.bias"},
		load: func(dir string, o nn.ClassifierOptions) (nn.SequenceClassifier, error) {
			return roberta.Load(dir, o)
		},
		positions: func(dir string) (int, string, error) {
			c, err := roberta.ReadConfig(dir)
			return int(c.MaxLength()), fmt.Sprintf("max_position_embeddings %d in %s, less the %d position ids RoBERTa skips",
				c.MaxPositionEmbeddings, filepath.Join(dir, weights.ConfigFile), c.PadID()+1), err
		}},
}

// frozenHeadAuto is the -freeze-head value that keeps the model type's frozenHead.
const frozenHeadAuto = "auto"

// detectKind reads config.json's model_type; a GGUF file is a Llama model, whose header is parsed here so that a
// damaged file is reported as such before anything else loads.
func detectKind(dir string) (modelKind, error) {
	if gguf.IsFile(dir) {
		if err := gguf.Check(dir); err != nil {
			return modelKind{}, err
		}
		return llamaKind, nil
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return modelKind{}, fmt.Errorf("%s: neither a model directory (config.json and weights) nor a GGUF file", dir)
	}
	var c weights.HFConfig
	if err := weights.ReadHFConfig(dir, &c); err != nil {
		return modelKind{}, err
	}
	if c.ModelType == "llama" {
		return llamaKind, nil
	}
	k, ok := modelKinds[c.ModelType]
	if !ok {
		return modelKind{}, fmt.Errorf("%s: model_type %q is not supported (supported: gpt2, roberta, llama)", dir, c.ModelType)
	}
	return k, nil
}

// loadTokenizer loads the tokenizer of dir (a tokenizer directory, or a GGUF file's metadata) and adapts it to
// the runner: examples are encoded with the model's special tokens and truncated as Hugging Face's run_glue.py
// does (truncation=True: a pair loses tokens from its longer text), padding uses the tokenizer's pad id (GPT-2
// and Llama without a pad token: the end-of-sequence token).
func loadTokenizer(dir string) (glue.Tokenizer, error) {
	p, err := tokenizer.Load(dir)
	if err != nil {
		return glue.Tokenizer{}, err
	}
	pad := p.PAD()
	if pad < 0 {
		return glue.Tokenizer{}, fmt.Errorf("%s: tokenizer has neither a pad nor an end-of-sequence token", dir)
	}
	return glue.PipelineTokenizer(p, pad), nil
}

// loaded is a model ready to train, with its tokenizer.
type loaded struct {
	kind  modelKind
	model nn.SequenceClassifier
	tok   glue.Tokenizer
}

// loadModel loads the classifier of o.modelDir with a head for the task's labels and its tokenizer. The pad id
// of the tokenizer is given to the model, which finds each sequence's last token by it (GPT-2).
func loadModel(o *options, dev gotch.Device, tok glue.Tokenizer, k modelKind) (nn.SequenceClassifier, error) {
	dtype, err := nn.ParseDType(o.dtype)
	if err != nil {
		return nil, err
	}
	lo := nn.ClassifierOptions{NumLabels: o.task.NumLabels(), DType: dtype, Device: dev, Seed: o.seed}
	if k.padToModel {
		pad := int64(tok.PadID)
		lo.PadTokenID = &pad
	}
	return k.load(o.modelDir, lo)
}
