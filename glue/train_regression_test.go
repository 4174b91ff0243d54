package glue

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// stsbData makes a learnable STS-B-like task from the sentiment examples: the score is 4 for a positive example
// and 0.5 for a negative one.
func stsbData(t *testing.T, trainN, devN int) TrainData {
	tok := hashTokenizer()
	enc := func(n int, seed uint64) []Encoded {
		ex := sentimentExamples(n, seed)
		for i := range ex {
			ex[i].Value = 0.5 + 3.5*float64(ex[i].Label)
			ex[i].Label = 0
		}
		e, _, err := EncodeExamples(ex, tok, 16)
		require.NoError(t, err)
		return e
	}
	return TrainData{Train: enc(trainN, 1), Evals: []EvalSet{{Name: "sts-b", Data: enc(devN, 2)}}, PadID: tok.PadID}
}

// TestRegressionTrainsWithMSE trains STS-B's regression head: one output [B, 1], whose loss is the mean squared
// error against the scores (Hugging Face's MSELoss on the squeezed logits for num_labels 1), whose predictions
// are the raw outputs, scored by Pearson and Spearman correlation and tracked by eval_pearson.
func TestRegressionTrainsWithMSE(t *testing.T) {
	runtime.LockOSThread()
	out := t.TempDir()
	c := tinyConfig(t, out)
	c.Task = mustTask(t, "sts-b")
	c.Epochs, c.EvalEvery = 10, 40
	c.Optim.LR = 5e-2
	model := newTinyClassifier(1, 1)
	data := stsbData(t, 64, 48)
	tr, err := NewTrainer(model, c, data)
	require.NoError(t, err)
	assert.Equal(t, "eval_pearson", tr.BestKey())

	// The loss of one batch is the MSE of the model's outputs against the scores.
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	b, err := MakeBatch(data.Train, idx, 0, data.PadID)
	require.NoError(t, err)
	var outs []float64
	nn.NoGrad(func() {
		ids := ts.MustOfSlice(b.IDs).MustView([]int64{int64(b.Rows), int64(b.Cols)}, true)
		mask := ts.MustOfSlice(b.Mask).MustView([]int64{int64(b.Rows), int64(b.Cols)}, true)
		logits := model.Logits(ids, mask, false)
		assert.Equal(t, []int64{8, 1}, logits.MustSize())
		outs = logits.MustTotype(gotch.Double, true).MustView([]int64{-1}, true).Float64Values(true)
		ids.MustDrop()
		mask.MustDrop()
	})
	want := 0.0
	for i, o := range outs {
		d := o - data.Train[idx[i]].Value
		want += d * d / float64(len(outs))
	}
	loss, err := tr.c.Backward(train.Batch{Indices: idx, Scale: 1})
	require.NoError(t, err)
	assert.InDelta(t, want, loss.Value, 1e-5)

	res, err := tr.Run(context.Background())
	require.NoError(t, err)
	for _, k := range []string{"eval_pearson", "eval_spearmanr", "eval_combined_score"} {
		assert.Contains(t, res.Metrics, k)
	}
	assert.Len(t, res.Metrics, 3)
	assert.Greater(t, res.Metrics["eval_pearson"], 0.6, "the scores are learnt (chance: 0)")
	assert.InDelta(t, (res.Metrics["eval_pearson"]+res.Metrics["eval_spearmanr"])/2, res.Metrics["eval_combined_score"], 1e-12)
	require.NotNil(t, res.Best)
	assert.Equal(t, "eval_pearson", res.Best.Name)

	p, err := tr.c.predict(data.Evals[0].Data)
	require.NoError(t, err)
	require.Len(t, p.scores, 48)
	assert.Empty(t, p.classes)
	assert.Equal(t, data.Evals[0].Data[0].Value, p.gold[0])
}

// TestRegressionHeadMustHaveOneOutput checks that a regression task refuses a model with class logits.
func TestRegressionHeadMustHaveOneOutput(t *testing.T) {
	runtime.LockOSThread()
	c := tinyConfig(t, t.TempDir())
	c.Task = mustTask(t, "sts-b")
	tr, err := NewTrainer(newTinyClassifier(1, 2), c, stsbData(t, 8, 8))
	require.NoError(t, err)
	_, err = tr.c.Backward(train.Batch{Indices: []int{0, 1}, Scale: 1})
	require.ErrorContains(t, err, "model returned logits of shape [2 2], want [2 1]")
}
