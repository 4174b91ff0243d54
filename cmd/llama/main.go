// Command llama instruction-tunes a Llama model (a Hugging Face directory or a GGUF file) with LoRA+ on
// flan-v2-style JSONL, the loss on the target tokens only, with the paper's flan-v2 settings as defaults
// (r = 64, alpha = 16, dropout 0.05 on the seven projections, lr_A 2e-4, ratio 16, constant schedule, 1 epoch,
// 512 tokens, AdamW betas (0.9, 0.999)):
//
//	go run ./cmd/llama -data FILE.jsonl -ratio 16 -model PATH
//
// It prints the optimizer plan, shows a progress bar and writes under -out: checkpoint-STEP/ (PEFT adapter with
// task type CAUSAL_LM, optimizer state, trainer state) and metrics.json. Ctrl-C finishes the step in flight,
// writes a checkpoint and exits with status 130; -resume latest continues where it stopped.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"
	"github.com/loraplus-go/loraplus/nn/tokenizer"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/hfconfig"
	"github.com/loraplus-go/loraplus/llama/instruct"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread: all gotch work stays on this goroutine
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	parse := func(args []string) (*options, error) { return parseFlags(args, stderr) }
	return cli.Main("llama", args, stderr, parse, func(o *options, st *cli.Stopper) error {
		if o.nproc > 1 {
			return cli.Launch(o.nproc, args, stdout, stderr)
		}
		grp, err := cli.JoinDist(o.device)
		if err != nil {
			return err
		}
		if grp != nil {
			defer grp.Close()
			o.cfg.Dist = grp
			if !grp.IsMain() {
				stdout = io.Discard // rank 0 reports
			}
			if o.threads == 0 {
				o.threads = 1 // the ranks share the cores
			}
		}
		_, err = finetune(o, st, stdout, stderr)
		return err
	})
}

// finetune loads the tokenizer, data and model and runs the trainer. The output folder is readied first, so that
// one that takes no writes fails the run before anything loads.
func finetune(o *options, st *cli.Stopper, stdout, stderr io.Writer) (*train.Result, error) {
	if o.modelErr != nil {
		return nil, o.modelErr
	}
	if o.cfg.Dist == nil || o.cfg.Dist.IsMain() {
		if err := train.PrepareOut(o.cfg.Out, stderr); err != nil {
			return nil, err
		}
	}
	if o.threads > 0 {
		if err := nn.SetNumThreads(o.threads); err != nil {
			return nil, err
		}
	}
	dev, err := nn.ParseDevice(o.device)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(o.tok)
	if err != nil {
		return nil, err
	}
	examples, rep, err := instruct.LoadData(o.dataFile, tok,
		instruct.DataOptions{MaxLen: o.cfg.MaxLen, SkipBad: o.skipBad, Limit: o.limit})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "data %s: %s", o.dataFile, rep)
	dtype, err := nn.ParseDType(o.dtype)
	if err != nil {
		return nil, err
	}
	model, err := nnllama.Load(o.model, nnllama.Options{DType: dtype, Device: dev})
	if err != nil {
		return nil, err
	}
	pad := tok.PAD()
	if pad < 0 || pad >= model.Model.Config.VocabSize {
		pad = 0 // padded positions are masked and carry no label: any id of the vocabulary does
	}
	cfg := o.cfg
	cfg.Device, cfg.Log = dev, stderr
	cfg.Warmup = warmup(o, len(examples))
	tr, err := instruct.NewTrainer(model, cfg, examples, pad)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "model %s on %v\nLoRA+ plan (lr_A %g, ratio %g, lr_B %g):\n%s", o.model, nn.DeviceName(dev),
		cfg.Optim.LR, cfg.Optim.Ratio, cfg.Optim.LR*cfg.Optim.Ratio, tr.Plan())
	batch := fmt.Sprint(cfg.BatchSize)
	if cfg.GradAccum > 1 {
		batch = fmt.Sprintf("%d × %d accumulated", cfg.BatchSize, cfg.GradAccum)
	}
	fmt.Fprintf(stdout, "training %d steps (%d examples, batch %s, max %d tokens) into %s\n", tr.TotalSteps(),
		len(examples), batch, cfg.MaxLen, cfg.Out)
	if pos := tr.State(); pos.Step > 0 {
		fmt.Fprintf(stdout, "resumed at step %d (epoch %d, batch %d)\n", pos.Step, pos.Epoch, pos.EpochStep)
	}
	release := st.Watch(tr)
	res, err := tr.Run(context.Background())
	release()
	if err != nil {
		return res, err
	}
	js, _ := json.MarshalIndent(res, "", "  ")
	fmt.Fprintf(stdout, "final metrics (%s/%s):\n%s\n", cfg.Out, train.MetricsFile, js)
	return res, nil
}

// warmup is the run's warmup steps: -warmup, or with -warmup-ratio ceil(ratio · total steps) as Hugging Face's
// Trainer counts them.
func warmup(o *options, examples int) int {
	c := o.cfg
	if o.warmupRatio == 0 || c.Warmup > 0 {
		return c.Warmup
	}
	total := c.MaxSteps
	if total == 0 {
		total = c.Epochs * train.StepsPerEpoch(examples, c.StepBatch())
	}
	return hfconfig.WarmupSteps(0, o.warmupRatio, total)
}
