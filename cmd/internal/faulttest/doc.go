// Package faulttest is the fault-injection suite of the commands (its tests only). It builds cmd/glue,
// cmd/llama and cmd/mmlu once, writes tiny random models with cmd/internal/fixture, and then:
//
//   - kills training runs with SIGKILL at exact points (inside a step, inside each stage of a checkpoint write,
//     after a checkpoint's rename, before metrics.json; the LORAPLUS_FAULT_PAUSE hook of package glue pauses
//     the process there), resumes them with -resume latest, and requires the final checkpoints, optimizer
//     state, trainer state and metrics files to equal those of an uninterrupted run, with no partial folder
//     left; the same for -sweep and -compare, whose resume continues with the runs not done;
//   - runs the commands on malformed inputs (damaged GGUF files and checkpoints, empty data, a -max-len above
//     the model's positions, a read-only output folder) and requires their exact error line and exit status.
package faulttest
