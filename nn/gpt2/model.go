package gpt2

import (
	"math"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Attention is the causal self-attention of a GPT-2 block: c_attn maps [.., E] to the concatenated
// query, key and value [.., 3E]; c_proj maps the merged heads back to [.., E]. Both are Conv1D ([in, out]).
type Attention struct {
	CAttn *nn.Linear `name:"c_attn"`
	CProj *nn.Linear `name:"c_proj"`
}

// MLP is the feed-forward part of a block: c_fc [E, inner], the activation, c_proj [inner, E].
type MLP struct {
	CFc   *nn.Linear `name:"c_fc"`
	CProj *nn.Linear `name:"c_proj"`
}

// Block is one pre-LN transformer block.
type Block struct {
	Ln1  *nn.LayerNorm `name:"ln_1"`
	Attn *Attention    `name:"attn"`
	Ln2  *nn.LayerNorm `name:"ln_2"`
	MLP  *MLP          `name:"mlp"`
}

// Model is transformers' GPT2Model (eager attention, no key/value cache): token and position embeddings,
// n_layer blocks and the final LayerNorm. Its tensors carry the names of the model's state_dict, e.g.
// "h.0.attn.c_attn.weight"; the attn.bias and attn.masked_bias buffers of older checkpoints are not kept.
type Model struct {
	Config Config
	Wte    *nn.Embedding `name:"wte"` // [vocab_size, n_embd]
	Wpe    *nn.Embedding `name:"wpe"` // [n_positions, n_embd]
	H      []*Block      `name:"h"`
	LnF    *nn.LayerNorm `name:"ln_f"`
	act    nn.Activation
}

// NewModel allocates a model of zeros (LayerNorm weights of ones) in dtype on dev; load weights with
// weights.LoadState.
func NewModel(cfg Config, dtype gotch.DType, dev gotch.Device) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := nn.CheckDType(dtype); err != nil {
		return nil, err
	}
	act, _ := nn.ParseActivation(cfg.ActivationFunction)
	z := func(shape ...int64) *ts.Tensor { return ts.MustZeros(shape, dtype, dev) }
	ln := func() *nn.LayerNorm {
		return nn.NewLayerNorm(ts.MustOnes([]int64{cfg.NEmbd}, dtype, dev), z(cfg.NEmbd), cfg.LayerNormEpsilon)
	}
	e, inner := cfg.NEmbd, cfg.Inner()
	m := &Model{Config: cfg, act: act, Wte: nn.NewEmbedding(z(cfg.VocabSize, e)), Wpe: nn.NewEmbedding(z(cfg.NPositions, e)), LnF: ln()}
	for i := int64(0); i < cfg.NLayer; i++ {
		m.H = append(m.H, &Block{
			Ln1:  ln(),
			Attn: &Attention{CAttn: nn.NewConv1D(z(e, 3*e), z(3*e)), CProj: nn.NewConv1D(z(e, e), z(e))},
			Ln2:  ln(),
			MLP:  &MLP{CFc: nn.NewConv1D(z(e, inner), z(inner)), CProj: nn.NewConv1D(z(inner, e), z(e))},
		})
	}
	return m, nil
}

// Forward maps ids [B, T] (int64) and mask [B, T] (int64, 1 = token, 0 = padding; nil for none) to the hidden
// states [B, T, n_embd] after ln_f. Positions are 0…T−1 as in transformers (right padding). train enables
// the resid, embd and attn dropouts. Inputs are not checked: see CheckInputs.
func (m *Model) Forward(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, nil, train)
}

// ForwardAt returns the hidden state after ln_f at one position of each sequence, pos [B] (int64): [B, 1,
// n_embd], equal to Forward's states there, but the last block computes its attention output, MLP and norms for
// those positions alone (the classification head reads one token per sequence).
func (m *Model) ForwardAt(ids, mask, pos *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, pos, train)
}

// forward runs the stack; with pos set the last block computes only the positions pos [B].
func (m *Model) forward(ids, mask, pos *ts.Tensor, train bool) *ts.Tensor {
	c := m.Config
	t := ids.MustSize()[1]
	dev := ids.MustDevice()
	positions := ts.MustArange(ts.IntScalar(t), gotch.Int64, dev)
	pe := m.Wpe.Forward(positions)
	positions.MustDrop()
	x := m.Wte.Forward(ids)
	h := x.MustAdd(pe, true)
	pe.MustDrop()
	h = nn.Dropout(h, c.EmbdPdrop, train)
	bias := attentionBias(mask, t, h.DType(), dev)
	for i, blk := range m.H {
		scale := 1.0
		if c.ScaleAttnWeights {
			scale = 1 / math.Sqrt(float64(c.NEmbd/c.NHead))
		}
		if c.ScaleAttnByInverseLayerIdx {
			scale /= float64(i + 1)
		}
		var at *ts.Tensor
		if i == len(m.H)-1 {
			at = pos
		}
		next := blk.forward(h, bias, at, c, m.act, scale, train)
		h.MustDrop()
		h = next
	}
	if bias != nil {
		bias.MustDrop()
	}
	out := m.LnF.Forward(h)
	h.MustDrop()
	return out
}

// attentionBias builds the additive bias [B|1, 1, T, T]: finfo.min where a key lies after the query or is
// padding. Without padding (mask nil or all ones) it returns nil: the attention is causal alone, which runs as
// scaled_dot_product_attention's is_causal.
func attentionBias(mask *ts.Tensor, t int64, dt gotch.DType, dev gotch.Device) *ts.Tensor {
	if mask == nil {
		return nil
	}
	if lo, _ := nn.MinMax(mask); lo == 1 {
		return nil
	}
	return causalBias(mask, t, dt, dev)
}

// causalBias is attentionBias's mask tensor, also for a batch without padding (mask nil).
func causalBias(mask *ts.Tensor, t int64, dt gotch.DType, dev gotch.Device) *ts.Tensor {
	ones := ts.MustOnes([]int64{t, t}, gotch.Bool, dev)
	causal := ones.MustTriu(1, true).MustView([]int64{1, 1, t, t}, true)
	masked := causal
	if mask != nil {
		b := mask.MustSize()[0]
		pad := mask.MustEq(ts.IntScalar(0), false).MustView([]int64{b, 1, 1, t}, true)
		// expand first: logical_or allocates its result like its first operand, and resizing it warns
		masked = causal.MustExpand([]int64{b, 1, t, t}, false, true).MustLogicalOr(pad, true)
		pad.MustDrop()
	}
	bias := nn.MaskedBias(masked, dt)
	masked.MustDrop()
	return bias
}

// forward returns h + attn(ln_1(h)), then that + mlp(ln_2(·)); it keeps h. With pos [B] set only those
// positions are computed after the key and value projections: [B, 1, E].
func (b *Block) forward(h, bias, pos *ts.Tensor, c Config, act nn.Activation, scale float64, train bool) *ts.Tensor {
	x := b.Ln1.Forward(h)
	a := b.Attn.forward(x, bias, pos, c, scale, train)
	x.MustDrop()
	res := h
	if pos != nil {
		res = nn.RowsAt(h, pos)
		defer res.MustDrop()
	}
	h1 := a.MustAdd(res, true)
	x = b.Ln2.Forward(h1)
	f := b.MLP.CFc.ForwardT(x, train)
	x.MustDrop()
	f = act(f)
	y := b.MLP.CProj.ForwardT(f, train)
	f.MustDrop()
	y = nn.Dropout(y, c.ResidPdrop, train)
	out := y.MustAdd(h1, true)
	h1.MustDrop()
	return out
}

// forward maps x [B, T, E] to the projected attention output [B, T, E] (after resid dropout); with pos [B] set,
// only those positions query: [B, 1, E].
func (a *Attention) forward(x, bias, pos *ts.Tensor, c Config, scale float64, train bool) *ts.Tensor {
	qkv := a.CAttn.ForwardT(x, train)
	parts := qkv.MustSplit(c.NEmbd, 2, true)
	if pos != nil {
		q := nn.RowsAt(parts[0], pos)
		parts[0].MustDrop()
		parts[0] = q
		if bias == nil { // the queried rows of the causal mask
			full := causalBias(nil, x.MustSize()[1], x.DType(), x.MustDevice())
			defer full.MustDrop()
			bias = full
		}
		bias = nn.MaskRowsAt(bias, pos) // [B, 1, 1, T]
		defer bias.MustDrop()
	}
	q := nn.SplitHeads(parts[0], c.NHead, true)
	k := nn.SplitHeads(parts[1], c.NHead, true)
	v := nn.SplitHeads(parts[2], c.NHead, true)
	var o *ts.Tensor
	if bias == nil {
		o = nn.MergeHeads(nn.AttendCausal(q, k, v, scale, c.AttnPdrop, train), true)
	} else {
		o = nn.MergeHeads(nn.Attend(q, k, v, bias, scale, c.AttnPdrop, train), true)
	}
	y := a.CProj.ForwardT(o, train)
	o.MustDrop()
	return nn.Dropout(y, c.ResidPdrop, train)
}
