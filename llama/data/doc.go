// Package data reads and formats the evaluation and instruction-tuning data
// used by the Llama part of the project.
//
// MMLU (Hendrycks et al., "Measuring Massive Multitask Language
// Understanding"): [ReadQuestionsFile] reads one <subject>_<split>.csv file,
// [LoadMMLU] loads the dev shots and evaluation questions of a set of
// subjects, [BuildPrompt] and [FitPrompt] build k-shot prompts byte for byte
// as the reference evaluation code does, and [Scorer] turns per-question
// choice logits into per-subject, per-subcategory and per-category accuracy.
//
// Instruction tuning: [ReadInstructFile] reads JSONL files whose lines are
// either prompt/completion records ({"inputs": ..., "targets": ...}, the
// flan-v2 layout) or chat records ({"messages": [...]}). [Format] lays a
// record out as training text the way open-instruct's finetune.py does, and
// [Formatted.Encode] tokenizes it with a caller-supplied tokenizer into input
// ids and labels with the prompt positions set to [IgnoreIndex].
//
// The package is pure Go and does not depend on a tensor library.
package data
