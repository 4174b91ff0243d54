package mmlu

import (
	"fmt"
	"sort"

	nnllama "github.com/loraplus-go/loraplus/nn/llama"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/nn"
)

// BatchOptions choose how prompts are batched.
type BatchOptions struct {
	// Batch is the number of prompts per forward pass (1 when ≤ 0). Prompts are sorted by length, longest
	// first, before batching, so that rows of a batch need little padding and the largest batch comes first.
	Batch int
	// PadLeft pads rows on the left instead of the right. Either way the mask hides the padding and the
	// logits are read at each row's last real token; with left padding the real tokens sit at shifted
	// positions, which rotary embeddings (relative) leave unchanged up to rounding.
	PadLeft bool
	// Progress, when set, is called after each batch with the indices (into the prompts) it scored and their
	// choice logits.
	Progress func(idx []int, logits [][4]float32)
}

// ChoiceLogits runs every prompt (token ids [T_i]) through lm with gradients off and returns, for each, the
// next-token logits at its last token for the four choice ids: [N][4] fp32, in prompt order. Padded positions
// take id 0 under a zero mask. Errors name the prompt whose ids are out of the vocabulary.
func ChoiceLogits(lm *nnllama.ForCausalLM, prompts [][]int, choices [4]int, o BatchOptions) ([][4]float32, error) {
	vocab := lm.Model.Config.VocabSize
	for _, c := range choices {
		if c < 0 || c >= vocab {
			return nil, fmt.Errorf("mmlu: choice token id %d is outside the model's vocabulary of %d", c, vocab)
		}
	}
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("mmlu: prompt %d is empty", i)
		}
		for _, id := range p {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("mmlu: prompt %d: token id %d is outside the model's vocabulary of %d", i, id, vocab)
			}
		}
	}
	order := make([]int, len(prompts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(prompts[order[a]]) > len(prompts[order[b]]) })
	bs := max(o.Batch, 1)
	out := make([][4]float32, len(prompts))
	var err error
	nn.NoGrad(func() {
		for start := 0; start < len(order); start += bs {
			idx := order[start:min(start+bs, len(order))]
			rows := make([][]int, len(idx))
			for j, i := range idx {
				rows[j] = prompts[i]
			}
			var got [][4]float32
			if got, err = mmluBatchLogits(lm, rows, choices, o.PadLeft); err != nil {
				return
			}
			for j, i := range idx {
				out[i] = got[j]
			}
			if o.Progress != nil {
				o.Progress(idx, got)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mmluPad lays rows out as [B, T] ids and mask (T the longest row), padding with id 0 and mask 0 on the left or
// the right, and returns the position of each row's last real token.
func mmluPad(rows [][]int, padLeft bool) (ids, mask []int64, T int, last []int64) {
	for _, r := range rows {
		T = max(T, len(r))
	}
	ids = make([]int64, len(rows)*T)
	mask = make([]int64, len(rows)*T)
	last = make([]int64, len(rows))
	for b, r := range rows {
		off := 0
		if padLeft {
			off = T - len(r)
		}
		for t, id := range r {
			ids[b*T+off+t] = int64(id)
			mask[b*T+off+t] = 1
		}
		last[b] = int64(off + len(r) - 1)
	}
	return ids, mask, T, last
}

// mmluBatchLogits scores one batch: the decoder runs on the padded rows, the head only on each row's last real
// hidden state and only for the four choice tokens (in the model's dtype, cast to fp32 as LlamaForCausalLM.Logits
// does).
func mmluBatchLogits(lm *nnllama.ForCausalLM, rows [][]int, choices [4]int, padLeft bool) ([][4]float32, error) {
	flatIDs, flatMask, T, last := mmluPad(rows, padLeft)
	B := int64(len(rows))
	shape := []int64{B, int64(T)}
	ids := ts.MustOfSlice(flatIDs).MustView(shape, true)
	defer ids.MustDrop()
	mask := ts.MustOfSlice(flatMask).MustView(shape, true)
	defer mask.MustDrop()
	if err := lm.Model.CheckInputs(ids, mask); err != nil {
		return nil, err
	}
	dev := lm.Model.Device()
	pos := ts.MustOfSlice(last).MustTo(dev, true)
	pooled := lm.Model.ForwardAt(ids, mask, pos, false).MustSelect(1, 0, true) // [B, H]
	pos.MustDrop()
	cols := ts.MustOfSlice([]int64{int64(choices[0]), int64(choices[1]), int64(choices[2]), int64(choices[3])}).MustTo(dev, true)
	var picked *ts.Tensor // [B, 4]
	if head := lm.LMHead; head != nil && head.Adapter() != nil && !head.Merged() {
		y := head.ForwardT(pooled, false)
		picked = y.MustIndexSelect(1, cols, true)
	} else {
		// only the four choice rows of the output layer: the same dot products as the full vocabulary's logits
		w := lm.Model.EmbedTokens.Weight
		if head != nil {
			w = head.Weight
		}
		rows := w.MustIndexSelect(0, cols, false) // [4, H]
		picked = ts.MustLinear(pooled, rows, ts.None)
		rows.MustDrop()
	}
	pooled.MustDrop()
	cols.MustDrop()
	picked = picked.MustTotype(gotch.Float, true).MustTo(gotch.CPU, true)
	v := make([]float32, 4*B)
	picked.MustCopyData(v, uint(4*B))
	picked.MustDrop()
	out := make([][4]float32, B)
	for b := range out {
		copy(out[b][:], v[4*b:4*b+4])
	}
	return out, nil
}
