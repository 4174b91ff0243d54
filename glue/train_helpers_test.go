package glue

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

const (
	tinyVocab = 256
	tinyDim   = 16
)

// tinyClassifier embeds tokens, applies a tanh layer, mean-pools over the mask and scores with a linear head.
type tinyClassifier struct {
	Emb   *nn.Embedding `name:"emb"`
	Proj  *nn.Linear    `name:"proj"`
	Score *nn.Linear    `name:"score"`

	nanFrom int // training forward calls from this one on (1-based) return NaN logits; 0 never
	calls   int
}

func newTinyClassifier(seed uint64, labels int) *tinyClassifier {
	rng := rand.New(rand.NewPCG(seed, 7))
	r := func(std float64, shape ...int64) *ts.Tensor { return nn.Normal(rng, shape, 0, std, gotch.CPU) }
	return &tinyClassifier{
		Emb:   nn.NewEmbedding(r(1, tinyVocab, tinyDim)),
		Proj:  nn.NewLinear(r(0.3, tinyDim, tinyDim), r(0.1, tinyDim)),
		Score: nn.NewLinear(r(0.1, int64(labels), tinyDim), nn.Zeros([]int64{int64(labels)}, gotch.CPU)),
	}
}

// Logits maps ids [B, T] and mask [B, T] to [B, C].
func (m *tinyClassifier) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	x := m.Emb.Forward(ids)
	h := m.Proj.ForwardT(x, train).MustTanh(true)
	x.MustDrop()
	mf := mask.MustTotype(gotch.Float, false).MustUnsqueeze(-1, true) // [B, T, 1]
	sum := h.MustMul(mf, true).MustSumDimIntlist([]int64{1}, false, gotch.Float, true)
	cnt := mf.MustSumDimIntlist([]int64{1}, false, gotch.Float, true)
	pooled := sum.MustDiv(cnt, true)
	cnt.MustDrop()
	out := m.Score.ForwardT(pooled, train)
	pooled.MustDrop()
	if train {
		m.calls++
		if m.nanFrom > 0 && m.calls >= m.nanFrom {
			out = out.MustMulScalar(ts.FloatScalar(math.NaN()), true)
		}
	}
	return out
}

// CheckInputs rejects ids outside the vocabulary, as the real models do.
func (m *tinyClassifier) CheckInputs(ids, mask *ts.Tensor) error {
	if mx := ids.MustMax(false).Int64Values(true)[0]; mx >= tinyVocab {
		return fmt.Errorf("input ids: value %d outside the vocabulary [0, %d)", mx, tinyVocab)
	}
	return nil
}

// Head returns the score layer's tensors.
func (m *tinyClassifier) Head() []nn.NamedTensor {
	return []nn.NamedTensor{{Name: "score.weight", Tensor: m.Score.Weight}, {Name: "score.bias", Tensor: m.Score.Bias}}
}

// hashTokenizer maps each lower-cased word to an id in [1, tinyVocab) by hashing; 0 pads.
func hashTokenizer() Tokenizer {
	return Tokenizer{PadID: 0, Encode: func(a, b string, maxLen int) ([]int, bool, error) {
		var ids []int
		for _, w := range strings.Fields(strings.ToLower(a + " " + b)) {
			h := fnv.New32a()
			h.Write([]byte(w))
			ids = append(ids, 1+int(h.Sum32()%(tinyVocab-1)))
		}
		if len(ids) > maxLen {
			return ids[:maxLen], true, nil
		}
		return ids, false, nil
	}}
}

// sentimentExamples makes a learnable SST-2-like task: the label is 1 when a positive word is present.
func sentimentExamples(n int, seed uint64) []Example {
	rng := rand.New(rand.NewPCG(seed, 3))
	pos := []string{"good", "great", "lovely", "superb"}
	neg := []string{"bad", "awful", "dull", "poor"}
	filler := []string{"the", "film", "was", "a", "plot", "story", "actors", "and", "it", "really"}
	out := make([]Example, n)
	for i := range out {
		label := rng.IntN(2)
		words := make([]string, 3+rng.IntN(6))
		for j := range words {
			words[j] = filler[rng.IntN(len(filler))]
		}
		key := neg[rng.IntN(len(neg))]
		if label == 1 {
			key = pos[rng.IntN(len(pos))]
		}
		words[rng.IntN(len(words))] = key
		out[i] = Example{ID: fmt.Sprint(i), TextA: strings.Join(words, " "), Label: label, Line: i + 2}
	}
	return out
}

// tinyData tokenizes a training and a dev set of the sentiment task.
func tinyData(t *testing.T, train, dev int) TrainData {
	tok := hashTokenizer()
	tr, _, err := EncodeExamples(sentimentExamples(train, 1), tok, 16)
	require.NoError(t, err)
	dv, _, err := EncodeExamples(sentimentExamples(dev, 2), tok, 16)
	require.NoError(t, err)
	return TrainData{Train: tr, Evals: []EvalSet{{Name: "sst-2", Data: dv}}, PadID: tok.PadID}
}

// tinyConfig is a fast configuration for the tiny classifier: no dropout, ratio 16, batches of 8, checkpoints
// only at the end.
func tinyConfig(t testing.TB, out string) TrainConfig {
	task, err := TaskByName("sst-2")
	require.NoError(t, err)
	c := DefaultTrainConfig(task, 5e-3, "proj")
	c.LoRA.Dropout = 0
	c.BatchSize, c.MaxLen, c.Epochs = 8, 16, 2
	c.EvalEvery, c.SaveEvery, c.Keep = 0, 0, 0
	c.Out = out
	c.Log = &strings.Builder{}
	return c
}

// trainable returns every trainable tensor's values by name.
func trainable(tr *Trainer) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range tr.Model().Params {
		d := p.Tensor.MustDetach(false)
		out[p.Name] = d.MustView([]int64{-1}, true).Float64Values(true)
	}
	return out
}

func scalarNaN() *ts.Scalar { return ts.FloatScalar(math.NaN()) }
