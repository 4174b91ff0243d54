// Package train runs a LoRA+ finetuning session for any loss: the data order, the LoRA+ AdamW with its
// learning-rate schedule and gradient clipping, gradient accumulation, evaluation with a tracked best metric,
// the progress bar, the per-evaluation history, atomic checkpoints with pruning, resume with a settings
// fingerprint, a clean stop on Ctrl-C and a stop before the update when the loss or the gradient norm is not
// finite.
//
// A task supplies only its examples, its loss and, if it has one, its evaluation (Task, Evaluator); the GLUE
// classifier (package glue) and the instruction tuner (package llama/instruct) are such tasks, and a gotch
// program with its own data can be another (see the package example).
//
// An output folder holds, for a run:
//
//	checkpoint-STEP/          the PEFT adapter (adapter_config.json, adapter_model.safetensors,
//	                          loraplus_config.json), optimizer.safetensors and trainer_state.json (State,
//	                          with Hugging Face Trainer's keys: log_history, best_metric, ...)
//	history.jsonl             one HistoryEntry per evaluation
//	log.jsonl                 one LogEntry every Config.LogEvery steps (loss, learning rates, gradient norm)
//	runs/events.out.tfevents.*  TensorBoard scalars of log.jsonl and of the evaluations (EventWriter), a
//	                          file per Run (with Config.LogEvery)
//	metrics.json              the Result of the finished run
//
// Every file is written atomically and durably (a checkpoint is written to a temporary folder that is renamed
// into place), so a kill or a power cut at any moment leaves the last complete checkpoint to resume from.
//
// libtorch keeps grad mode per OS thread: a Session's methods, except Stop, must run on one goroutine locked to
// its OS thread (runtime.LockOSThread).
package train
