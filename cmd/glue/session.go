package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/sugarme/gotch"

	"github.com/loraplus-go/loraplus/cmd/internal/cli"
	"github.com/loraplus-go/loraplus/cmd/internal/hfconfig"
	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/loraplus/dist"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// session is what every run of one command shares: the model type, tokenizer, tokenized data and device.
type session struct {
	o       *options
	kind    modelKind
	tok     glue.Tokenizer
	data    glue.TrainData
	dev     gotch.Device
	lr      float64 // lr_A: -lr or the model type's default
	seed    *uint64 // the seed of the run in progress when -seeds sets it; nil: -seed
	targets []string
	stdout  io.Writer
	stderr  io.Writer
	dist    *dist.Group // the data-parallel group; nil for one process
}

func newSession(o *options, stdout, stderr io.Writer) (*session, error) {
	if o.modelErr != nil {
		return nil, o.modelErr
	}
	kind, err := detectKind(o.modelDir)
	if err != nil {
		return nil, err
	}
	if err := checkMaxLen(o, kind); err != nil {
		return nil, err
	}
	dev, err := nn.ParseDevice(o.device)
	if err != nil {
		return nil, err
	}
	s := &session{o: o, kind: kind, dev: dev, lr: o.lr, targets: o.targets, stdout: stdout, stderr: stderr}
	if s.lr == 0 {
		s.lr = kind.lr
	}
	if s.targets == nil && o.targetRegex == "" {
		s.targets = kind.targets
	}
	tokDir := o.tokDir
	if tokDir == "" {
		tokDir = o.modelDir
	}
	if s.tok, err = loadTokenizer(tokDir); err != nil {
		return nil, err
	}
	data, rep, err := glue.LoadTrainData(o.task, o.dataDir, s.tok,
		glue.DataOptions{Policy: o.badRows, MaxLen: o.maxLen, LimitTrain: o.limTrain, LimitEval: o.limEval})
	if err != nil {
		return nil, err
	}
	s.data = data
	fmt.Fprintf(stdout, "task %s, model %s (%s) on %v\n%s", o.task.Name, o.modelDir, kind.name, nn.DeviceName(dev), rep)
	return s, nil
}

// checkMaxLen refuses a -max-len longer than the model's position table as soon as the config is read: the
// model would fail on the first batch that long, after the data and the model have loaded and training began.
func checkMaxLen(o *options, k modelKind) error {
	if k.positions == nil {
		return nil
	}
	n, from, err := k.positions(o.modelDir)
	if err != nil {
		return err
	}
	if o.maxLen > n {
		return fmt.Errorf("-max-len %d is above the %d positions of the model (%s)", o.maxLen, n, from)
	}
	return nil
}

// config builds the runner's settings from the flags for one run.
func (s *session) config(lrA, ratio float64, out, resume string) glue.TrainConfig {
	o := s.o
	seed := o.seed
	if s.seed != nil {
		seed = *s.seed
	}
	c := glue.DefaultTrainConfig(o.task, lrA, s.targets...)
	c.FrozenHead = o.frozen
	if c.FrozenHead == nil {
		c.FrozenHead = s.kind.frozenHead
	}
	c.LoRA.Rank, c.LoRA.Alpha, c.LoRA.Dropout, c.LoRA.Init, c.LoRA.Seed = o.rank, o.alpha, o.dropout, o.init, seed
	c.Optim.Ratio, c.Optim.LREmbedding = ratio, o.lrEmb
	c.Optim.Beta1, c.Optim.Beta2, c.Optim.Eps, c.Optim.WeightDecay = o.beta1, o.beta2, o.eps, o.wd
	c.LoRA.TargetRegex, c.LoRA.RSLoRA, c.LoRA.DoRA, c.Optim.LRMagnitude = o.targetRegex, o.rslora, o.dora, o.lrMag
	c.Schedule, c.Warmup = o.schedule, o.warmup
	c.BatchSize, c.GradAccum, c.EvalBatch, c.MaxLen, c.PadToLongest = o.batch, o.gradAccum, o.evalBatch, o.maxLen, o.padLong
	c.Epochs, c.MaxSteps, c.ClipNorm, c.GradCheckpoint = o.epochs, o.maxSteps, o.clip, o.gradCkpt
	c.EvalEvery, c.SaveEvery, c.Keep = o.evalEvery, o.saveEvery, o.keep
	if o.warmupRatio > 0 && o.warmup == 0 {
		total := c.MaxSteps
		if total == 0 {
			total = c.Epochs * train.StepsPerEpoch(len(s.data.Train), c.StepBatch())
		}
		c.Warmup = hfconfig.WarmupSteps(0, o.warmupRatio, total)
	}
	c.LogEvery = o.logEvery
	c.Seed, c.Out, c.Resume, c.Device, c.BaseModel, c.Log = seed, out, resume, s.dev, o.modelDir, s.stderr
	c.Dist = s.dist
	return c
}

// train loads a fresh model and trains it at (lrA, lrA·ratio) into out; printPlan prints the LoRA+ plan. The
// output folder is readied before the model loads, so that one that takes no writes fails at once.
func (s *session) train(st *cli.Stopper, lrA, ratio float64, out, resume string, printPlan bool) (*train.Result, error) {
	if s.dist == nil || s.dist.IsMain() {
		if err := train.PrepareOut(out, s.stderr); err != nil {
			return nil, err
		}
	}
	model, err := loadModel(s.o, s.dev, s.tok, s.kind)
	if err != nil {
		return nil, err
	}
	tr, err := glue.NewTrainer(model, s.config(lrA, ratio, out, resume), s.data)
	if err != nil {
		return nil, err
	}
	if printPlan {
		fmt.Fprintf(s.stdout, "LoRA+ plan (lr_A %g, ratio %g, lr_B %g):\n%s", lrA, ratio, lrA*ratio, tr.Plan())
	}
	batch := fmt.Sprint(s.o.batch)
	if s.o.gradAccum > 1 {
		batch = fmt.Sprintf("%d × %d accumulated", s.o.batch, s.o.gradAccum)
	}
	fmt.Fprintf(s.stdout, "training %d steps (%d examples, batch %s) into %s\n", tr.TotalSteps(), len(s.data.Train), batch, out)
	if pos := tr.State(); pos.Step > 0 {
		fmt.Fprintf(s.stdout, "resumed at step %d (epoch %d, batch %d)\n", pos.Step, pos.Epoch, pos.EpochStep)
	}
	release := st.Watch(tr)
	res, err := tr.Run(context.Background())
	release()
	if err != nil {
		return res, err
	}
	js, _ := json.MarshalIndent(res, "", "  ")
	fmt.Fprintf(s.stdout, "final metrics (%s/%s):\n%s\n", out, train.MetricsFile, js)
	return res, nil
}
