package nn

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// The classification and scoring heads read one position per sequence; the models' last layers then compute
// queries and per-token work for those positions alone (gpt2.Model.ForwardAt, llama.Model.ForwardAt). These
// helpers pick the positions.

// RowsAt returns x [B, T, E] at one position per sequence, pos [B] (int64): [B, 1, E].
func RowsAt(x, pos *ts.Tensor) *ts.Tensor {
	s := x.MustSize()
	idx := pos.MustView([]int64{s[0], 1, 1}, false).MustExpand([]int64{s[0], 1, s[2]}, false, true)
	out := x.MustGather(1, idx, false, false)
	idx.MustDrop()
	return out
}

// MaskRowsAt returns each sequence's query row of an attention mask or bias [B|1, 1, T, T] at pos [B]:
// [B, 1, 1, T].
func MaskRowsAt(mask, pos *ts.Tensor) *ts.Tensor {
	B, T := pos.MustSize()[0], mask.MustSize()[3]
	full := mask.MustExpand([]int64{B, 1, T, T}, false, false)
	idx := pos.MustView([]int64{B, 1, 1, 1}, false).MustExpand([]int64{B, 1, 1, T}, false, true)
	out := full.MustGather(2, idx, false, true)
	idx.MustDrop()
	return out
}

// LastNonPad returns, for ids [B, T] (int64), the position [B] (int64) of each row's rightmost token that is not
// pad (0 for a row of pads), as transformers' sequence classifiers pool since 4.47: argmax over t of
// t·(ids[t] ≠ pad). It handles right and left padding, and a pad id inside the text.
func LastNonPad(ids *ts.Tensor, pad int64) *ts.Tensor {
	T := ids.MustSize()[1]
	idx := ts.MustArange(ts.IntScalar(T), gotch.Int64, ids.MustDevice())
	w := ids.MustNotEqual(ts.IntScalar(pad), false).MustTotype(gotch.Int64, true).MustMul(idx, true)
	idx.MustDrop()
	return w.MustArgmax([]int64{-1}, false, true)
}
