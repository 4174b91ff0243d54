package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/loraplus-go/loraplus/glue"
	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// EvalResultsFile is the file -eval-only writes its metrics to in -out (run_glue.py's name).
const EvalResultsFile = "eval_results.json"

// predictOut is where -predict writes: -predict-out, or OUT/predict_results_<the test file's name>.
func (o *options) predictOut() string {
	if o.predictFile != "" {
		return o.predictFile
	}
	return filepath.Join(o.out, "predict_results_"+filepath.Base(o.predict))
}

// evaluate runs -eval-only and -predict: the model (with the -adapter loaded, when given) is scored on the dev
// split(s) and/or predicts the examples of a test file, without training.
func evaluate(o *options, stdout, stderr io.Writer) error {
	if o.modelErr != nil {
		return o.modelErr
	}
	kind, err := detectKind(o.modelDir)
	if err != nil {
		return err
	}
	if err := checkMaxLen(o, kind); err != nil {
		return err
	}
	dev, err := nn.ParseDevice(o.device)
	if err != nil {
		return err
	}
	tokDir := o.tokDir
	if tokDir == "" {
		tokDir = o.modelDir
	}
	tok, err := loadTokenizer(tokDir)
	if err != nil {
		return err
	}
	var test []glue.Example
	var testEnc []glue.Encoded
	if o.predict != "" { // read the test file before the model loads: a bad file fails at once
		if test, err = o.task.ReadTestFile(o.predict); err != nil {
			return err
		}
		if testEnc, _, err = glue.EncodeExamples(test, tok, o.maxLen); err != nil {
			return fmt.Errorf("%s: %w", o.predict, err)
		}
	}
	var data glue.TrainData
	if o.evalOnly {
		var rep *glue.DataReport
		if data, rep, err = glue.LoadEvalData(o.task, o.dataDir, tok,
			glue.DataOptions{Policy: o.badRows, MaxLen: o.maxLen, LimitEval: o.limEval}); err != nil {
			return err
		}
		fmt.Fprint(stdout, rep)
	}
	model, err := loadModel(o, dev, tok, kind)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "task %s, model %s (%s) on %v\n", o.task.Name, o.modelDir, kind.name, nn.DeviceName(dev))
	if o.adapter != "" {
		lm, err := loraplus.LoadAdapter(model, o.adapter)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "adapter %s: %d modules adapted, %d tensors loaded\n", o.adapter, len(lm.Adapted), len(lm.Params))
	} else {
		fmt.Fprintf(stderr, "glue: no -adapter: the model runs as loaded (its head is new unless the checkpoint has one)\n")
	}
	batch := o.evalBatch
	if batch == 0 {
		batch = o.batch
	}
	eo := glue.EvalOptions{Batch: batch, MaxLen: o.maxLen, PadToLongest: o.padLong, Device: dev}
	if o.evalOnly {
		m, err := glue.Evaluate(model, o.task, data, eo)
		if err != nil {
			return err
		}
		js, _ := json.MarshalIndent(m, "", "  ")
		path := filepath.Join(o.out, EvalResultsFile)
		if err := writeFile(path, append(js, '\n')); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "eval metrics (%s):\n%s\n", path, js)
	}
	if o.predict != "" {
		preds, err := glue.Predict(model, o.task, testEnc, tok.PadID, eo)
		if err != nil {
			return err
		}
		ids := make([]string, len(test))
		for i, ex := range test {
			ids[i] = ex.ID
		}
		var b strings.Builder
		if err := glue.WritePredictions(&b, ids, preds); err != nil {
			return err
		}
		path := o.predictOut()
		if err := writeFile(path, []byte(b.String())); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d predictions of %s written to %s\n", len(preds), o.predict, path)
	}
	return nil
}

// writeFile writes data to path, making its folder.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
