// Package hfconfig reads a training config file, YAML or JSON, whose keys are the names PEFT's LoraConfig,
// Hugging Face's TrainingArguments and LLaMA-Factory use (learning_rate, lora_r, target_modules,
// per_device_train_batch_size, ...), and applies it to a command's flags. A flag given on the command line wins
// over the file. An unknown key, a key the command has no flag for, a value of the wrong type and two keys for
// the same setting are errors naming the file, line and key.
package hfconfig

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// kind is the type of a key's value.
type kind int

const (
	kindFloat    kind = iota
	kindInt           // an integer; an integral float (3.0) is taken too, as HF's num_train_epochs is a float
	kindBool          // true or false
	kindString        // a string
	kindTargets       // target_modules: a list of names, "all-linear", or any other string: a full-match regex
	kindLFTarget      // LLaMA-Factory's lora_target: "all" or comma-separated names
	kindSchedule      // lr_scheduler_type: HF's constant_with_warmup is the commands' constant (which warms up)
)

// key is how one config key sets a flag.
type key struct {
	flag string
	kind kind
	// minusOne, for HF keys where -1 means "not set" (max_steps), maps -1 to 0, the flags' "not set".
	minusOne bool
}

// Keys maps the config keys to the flags they set (flags shared by cmd/glue and cmd/llama).
var keys = map[string]key{
	"learning_rate":               {flag: "lr"},
	"lora_r":                      {flag: "r", kind: kindInt},
	"r":                           {flag: "r", kind: kindInt},
	"lora_rank":                   {flag: "r", kind: kindInt},
	"lora_alpha":                  {flag: "alpha"},
	"lora_dropout":                {flag: "dropout"},
	"target_modules":              {kind: kindTargets},
	"lora_target":                 {kind: kindLFTarget},
	"use_rslora":                  {flag: "rslora", kind: kindBool},
	"use_dora":                    {flag: "dora", kind: kindBool},
	"loraplus_lr_ratio":           {flag: "ratio"},
	"loraplus_lr_embedding":       {flag: "lr-embedding"},
	"num_train_epochs":            {flag: "epochs", kind: kindInt},
	"per_device_train_batch_size": {flag: "batch", kind: kindInt},
	"gradient_accumulation_steps": {flag: "grad-accum", kind: kindInt},
	"gradient_checkpointing":      {flag: "grad-checkpoint", kind: kindBool},
	"warmup_ratio":                {flag: "warmup-ratio"},
	"warmup_steps":                {flag: "warmup", kind: kindInt},
	"max_grad_norm":               {flag: "clip"},
	"weight_decay":                {flag: "weight-decay"},
	"adam_beta1":                  {flag: "beta1"},
	"adam_beta2":                  {flag: "beta2"},
	"adam_epsilon":                {flag: "eps"},
	"lr_scheduler_type":           {flag: "schedule", kind: kindSchedule},
	"max_steps":                   {flag: "max-steps", kind: kindInt, minusOne: true},
	"seed":                        {flag: "seed", kind: kindInt},
	"output_dir":                  {flag: "out", kind: kindString},
}

// Keys returns the config keys this package knows, sorted.
func Keys() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Applied records which flags a config file set, to name the file's key in a later error about the flag.
type Applied struct {
	origin map[string]string // flag name → "path:line: key"
}

// Set reports whether the file set the flag name.
func (a *Applied) Set(name string) bool { return a != nil && a.origin[name] != "" }

// Annotate adds to an error about a flag the file set (a message starting "-name" or holding "-name:" or
// "-name ") where that value came from: "-r must be > 0, got 0 (r: 0 from cfg.yaml:3: lora_r)". A nil
// receiver or error returns err unchanged.
func (a *Applied) Annotate(err error) error {
	if a == nil || err == nil {
		return err
	}
	msg := err.Error()
	names := make([]string, 0, len(a.origin))
	for n := range a.origin {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(msg, "-"+n+" ") || strings.HasPrefix(msg, "-"+n+":") {
			return fmt.Errorf("%w (set by %s)", err, a.origin[n])
		}
	}
	return err
}

// Apply reads the config file path and sets, through fs.Set, every flag the file names that is not in
// cmdline (the flags given on the command line). Values are checked against the key's type here; the flags
// check their ranges afterwards.
func Apply(fs *flag.FlagSet, path string, cmdline map[string]bool) (*Applied, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a := &Applied{origin: map[string]string{}}
	if len(doc.Content) == 0 {
		return a, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of keys to values, got a %s", path, root.Line, kindName(root))
	}
	byFlag := map[string]string{} // flag → key that set it, to refuse two keys for one setting
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s", path, kn.Line, kn.Value)
		k, ok := keys[kn.Value]
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown key %q (known keys: %s)", path, kn.Line, kn.Value, strings.Join(Keys(), ", "))
		}
		sets, err := values(k, vn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for _, s := range sets {
			if fs.Lookup(s.flag) == nil {
				return nil, fmt.Errorf("%s: this command has no -%s setting", where, s.flag)
			}
			if prev, dup := byFlag[s.flag]; dup {
				return nil, fmt.Errorf("%s: sets -%s, already set by %s", where, s.flag, prev)
			}
			byFlag[s.flag] = kn.Value
			if cmdline[s.flag] {
				continue
			}
			if err := fs.Set(s.flag, s.value); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			a.origin[s.flag] = fmt.Sprintf("%s: %s", where, s.value)
		}
	}
	return a, nil
}

// setting is one flag value a key gives.
type setting struct{ flag, value string }

// values turns a key's YAML value into the flag values it sets.
func values(k key, v *yaml.Node) ([]setting, error) {
	switch k.kind {
	case kindTargets:
		if v.Kind == yaml.SequenceNode {
			names, err := stringList(v)
			if err != nil {
				return nil, err
			}
			return []setting{{"targets", strings.Join(names, ",")}}, nil
		}
		s, err := scalar[string](v, "a list of module names or a string")
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(s, "all-linear") {
			return []setting{{"targets", "all-linear"}}, nil
		}
		return []setting{{"target-regex", s}}, nil // PEFT: a string is a full-match regex
	case kindLFTarget:
		s, err := scalar[string](v, "\"all\" or comma-separated module names")
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "all" {
			s = "all-linear"
		}
		return []setting{{"targets", s}}, nil
	case kindString:
		s, err := scalar[string](v, "a string")
		return []setting{{k.flag, s}}, err
	case kindSchedule:
		s, err := scalar[string](v, "a string")
		if s == "constant_with_warmup" {
			s = "constant"
		}
		return []setting{{k.flag, s}}, err
	case kindBool:
		b, err := scalar[bool](v, "true or false")
		return []setting{{k.flag, strconv.FormatBool(b)}}, err
	case kindInt:
		f, err := scalar[float64](v, "an integer")
		if err != nil {
			return nil, err
		}
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("want an integer, got %s", v.Value)
		}
		if k.minusOne && f == -1 {
			f = 0
		}
		return []setting{{k.flag, strconv.FormatInt(int64(f), 10)}}, nil
	default:
		f, err := scalar[float64](v, "a number")
		return []setting{{k.flag, strconv.FormatFloat(f, 'g', -1, 64)}}, err
	}
}

// scalar decodes a scalar node as a T; anything else is an error saying what was wanted.
func scalar[T any](v *yaml.Node, want string) (T, error) {
	var x T
	if v.Kind != yaml.ScalarNode {
		return x, fmt.Errorf("want %s, got a %s", want, kindName(v))
	}
	if _, isString := any(x).(string); isString && v.Tag != "!!str" {
		return x, fmt.Errorf("want %s, got %s", want, v.Value)
	}
	if err := v.Decode(&x); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return x, fmt.Errorf("want %s, got %q", want, v.Value)
		}
		return x, err
	}
	return x, nil
}

// stringList decodes a sequence of strings.
func stringList(v *yaml.Node) ([]string, error) {
	var out []string
	for _, e := range v.Content {
		s, err := scalar[string](e, "module names")
		if err != nil {
			return nil, fmt.Errorf("list item %d: %w", len(out)+1, err)
		}
		if strings.TrimSpace(s) == "" || strings.Contains(s, ",") {
			return nil, fmt.Errorf("list item %d: bad module name %q", len(out)+1, s)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}

// kindName names a node's kind for messages.
func kindName(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "value"
}

// WarmupSteps is Hugging Face Trainer's get_warmup_steps: warmup steps when > 0, else ceil(ratio · total).
func WarmupSteps(steps int, ratio float64, total int) int {
	if steps > 0 {
		return steps
	}
	return int(math.Ceil(ratio * float64(total)))
}
