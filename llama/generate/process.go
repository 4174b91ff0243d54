package generate

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// process applies transformers' logits processors to scores [1, V] (fp32, consumed) in generate's order: the
// repetition penalty over the tokens seen, then, when sampling, temperature, top-k and top-p, which set the
// scores of the tokens they remove to −inf. The operations are those of RepetitionPenaltyLogitsProcessor,
// TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper (min_tokens_to_keep 1), so the result equals
// theirs.
func (o Options) process(scores *ts.Tensor, seen []int) *ts.Tensor {
	dev := scores.MustDevice()
	V := scores.MustSize()[1]
	if p := o.RepetitionPenalty; p != 0 && p != 1 && len(seen) > 0 {
		ids := make([]int64, 0, len(seen))
		for _, id := range seen {
			ids = append(ids, int64(id))
		}
		slices.Sort(ids)
		ids = slices.Compact(ids) // gather/scatter of a repeated id writes one value: the set is the same
		idx := ts.MustOfSlice(ids).MustView([]int64{1, -1}, true).MustTo(dev, true)
		s := scores.MustGather(1, idx, false, false)
		neg := s.MustLt(ts.FloatScalar(0), false)
		mul := s.MustMulScalar(ts.FloatScalar(p), false)
		div := s.MustDivScalar(ts.FloatScalar(p), true)
		pen := mul.MustWhereSelf(neg, div, true) // where(score < 0, score·p, score/p)
		neg.MustDrop()
		div.MustDrop()
		scores = scores.MustScatter(1, idx, pen, true)
		idx.MustDrop()
		pen.MustDrop()
	}
	if !o.sampling() {
		return scores
	}
	if o.Temperature != 1 {
		scores = scores.MustDivScalar(ts.FloatScalar(o.Temperature), true)
	}
	if o.TopK > 0 {
		k := min(int64(o.TopK), V)
		vals, idx := scores.MustTopk(k, -1, true, true, false)
		idx.MustDrop()
		kth := vals.MustNarrow(1, k-1, 1, true)
		remove := scores.MustLtTensor(kth, false) // scores < the k-th largest: ties with it stay
		kth.MustDrop()
		scores = scores.MustMaskedFill(remove, ts.FloatScalar(math.Inf(-1)), true)
		remove.MustDrop()
	}
	if o.TopP > 0 && o.TopP < 1 {
		sorted, idx := scores.MustSort(-1, false, false) // ascending
		cum := sorted.MustSoftmax(-1, gotch.Float, true).MustCumsum(-1, gotch.Float, true)
		removeSorted := cum.MustLe(ts.FloatScalar(1-o.TopP), true)
		keep := removeSorted.MustNarrow(1, V-1, 1, false) // the most likely token always stays
		keep.MustFill_(ts.IntScalar(0))
		keep.MustDrop()
		remove := removeSorted.MustScatter(1, idx, removeSorted, true)
		idx.MustDrop()
		scores = scores.MustMaskedFill(remove, ts.FloatScalar(math.Inf(-1)), true)
		remove.MustDrop()
	}
	return scores
}

// pick chooses the next token from processed scores [1, V]: the first maximum when decoding greedily, else a
// draw from softmax(scores) with rng.
func (o Options) pick(scores *ts.Tensor, rng *rand.Rand) int {
	if !o.sampling() {
		am := scores.MustArgmax([]int64{-1}, false, false)
		defer am.MustDrop()
		return int(am.Int64Values()[0])
	}
	probs := scores.MustSoftmax(-1, gotch.Float, false)
	if probs.MustDevice().CInt() != gotch.CPU.CInt() {
		probs = probs.MustTo(gotch.CPU, true)
	}
	p := make([]float32, probs.Numel())
	probs.MustCopyData(p, uint(len(p)))
	probs.MustDrop()
	return draw(p, rng)
}

// draw returns index i with probability p[i] / Σp (inverse transform sampling in float64).
func draw(p []float32, rng *rand.Rand) int {
	var total float64
	for _, v := range p {
		total += float64(v)
	}
	u := rng.Float64() * total
	last := 0
	var acc float64
	for i, v := range p {
		if v <= 0 {
			continue
		}
		acc += float64(v)
		last = i
		if u < acc {
			return i
		}
	}
	return last // rounding left u at the very top: the last token with mass
}
