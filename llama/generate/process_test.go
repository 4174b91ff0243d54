package generate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/reftest"
	"github.com/loraplus-go/loraplus/nn/weights"
)

// processCase is one setting of the logits processors; JSON names are llama_generate.py's.
type processCase struct {
	Seen              []int   `json:"seen"`
	RepetitionPenalty float64 `json:"repetition_penalty"`
	Temperature       float64 `json:"temperature"`
	TopK              int     `json:"top_k"`
	TopP              float64 `json:"top_p"`
}

// TestProcessMatchesTransformers applies the logits processors to three rows of scores (spread out, peaked
// like a trained model's, and with ties at the top-k boundary) under single and combined settings, and compares
// with transformers' RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper and
// TopPLogitsWarper: the same tokens removed, the same values elsewhere.
func TestProcessMatchesTransformers(t *testing.T) {
	const V = 300
	rng := newRNG(5)
	scores := make([]float32, 3*V)
	for i := range V {
		scores[i] = float32(3 * rng.NormFloat64())
		scores[V+i] = float32(rng.NormFloat64())
		scores[2*V+i] = float32(rng.IntN(7)) // many ties
	}
	for _, i := range []int{3, 40, 41, 200} { // a peaked row: a few tokens far above the rest
		scores[V+i] = float32(8 + i%5)
	}
	seen := []int{3, 3, 17, 40, 299, 0, 17} // repeats, both ends of the vocabulary, positive and negative scores
	cases := []processCase{
		{Seen: seen, RepetitionPenalty: 1.3},
		{Seen: seen, RepetitionPenalty: 0.8}, // < 1 favours repeats
		{Temperature: 0.7},
		{Temperature: 1.8},
		{Temperature: 1, TopK: 5},
		{Temperature: 1, TopK: 1},
		{Temperature: 1, TopK: 1000}, // more than the vocabulary
		{Temperature: 1, TopP: 0.9},
		{Temperature: 1, TopP: 0.3},
		{Temperature: 1.5, TopP: 0.5},
		{Temperature: 1, TopP: 1e-9}, // 1 - p rounds to 1 in fp32: only the guard keeps the most likely token
		{Seen: seen, RepetitionPenalty: 1.2, Temperature: 0.8, TopK: 40, TopP: 0.95},
		{Seen: seen, RepetitionPenalty: 1.5}, // greedy: only the penalty applies
	}
	dir := t.TempDir()
	in, casesPath, out := filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "cases.json"), filepath.Join(dir, "out.safetensors")
	all := ts.MustOfSlice(scores).MustView([]int64{3, V}, true)
	require.NoError(t, weights.WriteSafetensors(in, []nn.NamedTensor{{Name: "scores", Tensor: all}}, nil))
	data, err := json.Marshal(cases)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(casesPath, data, 0o644))
	reftest.Run(t, "llama_generate.py", "process", in, casesPath, out)
	ref, _, err := weights.ReadSafetensors(out)
	require.NoError(t, err)
	for i, c := range cases {
		o := Options{MaxNewTokens: 1, RepetitionPenalty: c.RepetitionPenalty, Temperature: c.Temperature, TopK: c.TopK, TopP: c.TopP}
		want := ref["out_"+strconv.Itoa(i)].Float64Values()
		for r := range int64(3) {
			got := o.process(all.MustNarrow(0, r, 1, false), c.Seen).Float64Values()
			removed := 0
			for j, w := range want[r*V : (r+1)*V] {
				g := got[j]
				if math.IsInf(w, -1) {
					removed++
					require.True(t, math.IsInf(g, -1), "case %d %+v row %d: token %d removed by transformers, kept at %v", i, c, r, j, g)
					continue
				}
				require.InDelta(t, w, g, 1e-6*(1+math.Abs(w)), "case %d %+v row %d token %d", i, c, r, j)
			}
			if c.TopK == 5 || c.TopP == 0.3 {
				require.Positive(t, removed, "case %d row %d removes tokens", i, r)
			}
		}
	}
}
