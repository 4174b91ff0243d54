// Package glue is the GLUE task: it finetunes sequence classifiers (GPT-2, RoBERTa, Llama) with LoRA+ on the
// nine GLUE tasks (CoLA, MNLI, MRPC, QNLI, QQP, RTE, SST-2, STS-B, WNLI) as Hugging Face's run_glue.py runs them:
// TSV readers with the columns and label maps of transformers' GLUE processors, data folder resolution,
// longest-first truncation of sentence pairs, batching, the classification (or, for STS-B, regression) loss and
// the evaluation of a training session (package loraplus/train), and the GLUE metrics under run_glue.py's names.
// The readers and metrics (tsv.go, tasks.go, metrics.go) use no libtorch.
package glue
