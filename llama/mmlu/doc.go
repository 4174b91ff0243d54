// Package mmlu evaluates a Llama-family language model on MMLU (Hendrycks et al., "Measuring Massive Multitask
// Language Understanding") k-shot, as the reference evaluation code (and the LoRA+ paper's 5-shot numbers) do.
//
// Data: [ReadQuestionsFile] reads one <subject>_<split>.csv file, [Load] loads the dev shots and evaluation
// questions of a set of subjects, [BuildPrompt] and [FitPrompt] build k-shot prompts byte for byte as the
// reference code does.
//
// Evaluation: [BuildPrompts] tokenizes every prompt, [ChoiceLogits] scores the four answer letters at each
// prompt's last position in length-sorted, left-padded batches, and [Evaluate] runs both; [Scorer] turns the
// choice logits into per-subject, per-subcategory and per-category accuracy ([Report]).
package mmlu
