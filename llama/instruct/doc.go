// Package instruct instruction-tunes a Llama-family language model with LoRA+, as the LoRA+ paper's flan-v2
// runs and open-instruct's finetune.py do.
//
// Data: [ReadFile] reads JSONL files whose lines are prompt/completion records ({"inputs": ..., "targets": ...},
// the flan-v2 layout, or {"prompt", "completion"}) or chat records ({"messages": [...]}). [Format] lays a record
// out as training text the way open-instruct does, and [Formatted.Encode] tokenizes it into input ids and labels
// with the prompt positions set to [IgnoreIndex]. [LoadData] does all three for a file with a real tokenizer.
//
// Training: [NewTrainer] wraps a [nnllama.ForCausalLM] with LoRA adapters on [Targets] and runs a training
// session (package loraplus/train) whose loss is the next-token cross-entropy on the target tokens only
// ([Loss]); batches are right-padded to their longest example ([Batch]). [DefaultConfig] holds the paper's
// flan-v2 settings.
//
// [nnllama.ForCausalLM]: https://pkg.go.dev/github.com/loraplus-go/loraplus/nn/llama#ForCausalLM
package instruct
