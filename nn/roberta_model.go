package nn

import (
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// RobertaEmbeddings sums word, position and token-type embeddings, then applies LayerNorm and dropout.
type RobertaEmbeddings struct {
	WordEmbeddings      *Embedding `name:"word_embeddings"`       // [vocab_size, hidden]
	PositionEmbeddings  *Embedding `name:"position_embeddings"`   // [max_position_embeddings, hidden]
	TokenTypeEmbeddings *Embedding `name:"token_type_embeddings"` // [type_vocab_size, hidden]
	LayerNorm           *LayerNorm `name:"LayerNorm"`
}

// RobertaSelfAttention holds the query, key and value projections [hidden, hidden].
type RobertaSelfAttention struct {
	Query *Linear `name:"query"`
	Key   *Linear `name:"key"`
	Value *Linear `name:"value"`
}

// RobertaDenseNorm is a dense layer followed by dropout, a residual sum and LayerNorm (RobertaSelfOutput and
// RobertaOutput).
type RobertaDenseNorm struct {
	Dense     *Linear    `name:"dense"`
	LayerNorm *LayerNorm `name:"LayerNorm"`
}

// RobertaAttention is self-attention with its output block.
type RobertaAttention struct {
	Self   *RobertaSelfAttention `name:"self"`
	Output *RobertaDenseNorm     `name:"output"`
}

// RobertaIntermediate is the first layer of the feed-forward block [hidden, intermediate_size].
type RobertaIntermediate struct {
	Dense *Linear `name:"dense"`
}

// RobertaLayer is one post-LN encoder layer.
type RobertaLayer struct {
	Attention    *RobertaAttention    `name:"attention"`
	Intermediate *RobertaIntermediate `name:"intermediate"`
	Output       *RobertaDenseNorm    `name:"output"`
}

// RobertaEncoder is the stack of layers.
type RobertaEncoder struct {
	Layer []*RobertaLayer `name:"layer"`
}

// RobertaModel is transformers' RobertaModel without the pooler (as RobertaForSequenceClassification builds
// it; checkpoints' pooler tensors are skipped on load). Tensor names follow the state_dict, e.g.
// "encoder.layer.0.attention.self.query.weight".
type RobertaModel struct {
	Config     RobertaConfig
	Embeddings *RobertaEmbeddings `name:"embeddings"`
	Encoder    *RobertaEncoder    `name:"encoder"`
	act        hfAct
}

// NewRobertaModel allocates a model of zeros (LayerNorm weights of ones) in dtype on dev; load weights with
// LoadState.
func NewRobertaModel(cfg RobertaConfig, dtype gotch.DType, dev gotch.Device) (*RobertaModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := hfCheckDType(dtype); err != nil {
		return nil, err
	}
	act, _ := hfActivation(cfg.HiddenAct)
	z := func(shape ...int64) *ts.Tensor { return ts.MustZeros(shape, dtype, dev) }
	d, inner := cfg.HiddenSize, cfg.IntermediateSize
	ln := func() *LayerNorm { return NewLayerNorm(ts.MustOnes([]int64{d}, dtype, dev), z(d), cfg.LayerNormEps) }
	lin := func(in, out int64) *Linear { return NewLinear(z(out, in), z(out)) }
	words := NewEmbedding(z(cfg.VocabSize, d))
	words.PaddingIdx = cfg.PadID()
	pos := NewEmbedding(z(cfg.MaxPositionEmbeddings, d))
	pos.PaddingIdx = cfg.PadID()
	m := &RobertaModel{Config: cfg, act: act, Encoder: &RobertaEncoder{},
		Embeddings: &RobertaEmbeddings{WordEmbeddings: words, PositionEmbeddings: pos,
			TokenTypeEmbeddings: NewEmbedding(z(cfg.TypeVocabSize, d)), LayerNorm: ln()}}
	for i := int64(0); i < cfg.NumHiddenLayers; i++ {
		m.Encoder.Layer = append(m.Encoder.Layer, &RobertaLayer{
			Attention: &RobertaAttention{
				Self:   &RobertaSelfAttention{Query: lin(d, d), Key: lin(d, d), Value: lin(d, d)},
				Output: &RobertaDenseNorm{Dense: lin(d, d), LayerNorm: ln()},
			},
			Intermediate: &RobertaIntermediate{Dense: lin(d, inner)},
			Output:       &RobertaDenseNorm{Dense: lin(inner, d), LayerNorm: ln()},
		})
	}
	return m, nil
}

// Forward maps ids [B, T] (int64) and mask [B, T] (int64, 1 = token, 0 = padding; nil for none) to the hidden
// states [B, T, hidden]. Positions count the non-pad tokens from padding_idx+1 and pad tokens sit at padding_idx,
// as transformers' create_position_ids_from_input_ids; token types are all 0. train enables dropout. Inputs
// are not checked: see CheckInputs.
func (m *RobertaModel) Forward(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, train, false)
}

// ForwardFirst returns the hidden state of the first token only, [B, 1, hidden], what the classification head
// reads: equal to Forward's first position, but the last layer computes its query, attention output and
// feed-forward for that position alone.
func (m *RobertaModel) ForwardFirst(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, train, true)
}

func (m *RobertaModel) forward(ids, mask *ts.Tensor, train, firstOnly bool) *ts.Tensor {
	c := m.Config
	e := m.Embeddings
	pos := robertaPositions(ids, c.PadID())
	types := ids.MustZerosLike(false)
	x := e.WordEmbeddings.Forward(ids)
	p := e.PositionEmbeddings.Forward(pos)
	tt := e.TokenTypeEmbeddings.Forward(types)
	pos.MustDrop()
	types.MustDrop()
	x = x.MustAdd(tt, true).MustAdd(p, true)
	tt.MustDrop()
	p.MustDrop()
	h := e.LayerNorm.Forward(x)
	x.MustDrop()
	h = hfDropout(h, c.HiddenDropoutProb, train)
	// additive key-padding bias [B, 1, 1, T]; nil (no mask) attends everywhere
	var bias *ts.Tensor
	if mask != nil {
		s := mask.MustSize()
		pad := mask.MustEq(ts.IntScalar(0), false).MustView([]int64{s[0], 1, 1, s[1]}, true)
		bias = hfMaskedBias(pad, h.DType())
		pad.MustDrop()
		defer bias.MustDrop()
	}
	scale := 1 / math.Sqrt(float64(c.HiddenSize/c.NumAttentionHeads))
	for i, l := range m.Encoder.Layer {
		next := l.forward(h, bias, c, m.act, scale, train, firstOnly && i == len(m.Encoder.Layer)-1)
		h.MustDrop()
		h = next
	}
	return h
}

// robertaPositions returns (cumsum(ids ≠ pad)·(ids ≠ pad)) + pad for ids [B, T].
func robertaPositions(ids *ts.Tensor, pad int64) *ts.Tensor {
	tok := ids.MustNe(ts.IntScalar(pad), false).MustTotype(gotch.Int64, true)
	pos := tok.MustCumsum(1, gotch.Int64, false).MustMul(tok, true).MustAddScalar(ts.IntScalar(pad), true)
	tok.MustDrop()
	return pos
}

// forward runs one layer on h [B, T, hidden] and keeps h. With firstOnly the queries and everything after the
// attention (per-token work) are computed for position 0 alone: the output is [B, 1, hidden].
func (l *RobertaLayer) forward(h, bias *ts.Tensor, c RobertaConfig, act hfAct, scale float64, train, firstOnly bool) *ts.Tensor {
	sa := l.Attention.Self
	hq := h
	if firstOnly {
		hq = h.MustNarrow(1, 0, 1, false)
		defer hq.MustDrop()
	}
	q := hfSplitHeads(sa.Query.Forward(hq, train), c.NumAttentionHeads, true)
	k := hfSplitHeads(sa.Key.Forward(h, train), c.NumAttentionHeads, true)
	v := hfSplitHeads(sa.Value.Forward(h, train), c.NumAttentionHeads, true)
	ctx := hfMergeHeads(hfAttention(q, k, v, bias, scale, c.AttentionProbsDropoutProb, train), true)
	a := l.Attention.Output.forward(ctx, hq, c, train)
	ctx.MustDrop()
	i := act(l.Intermediate.Dense.Forward(a, train))
	out := l.Output.forward(i, a, c, train)
	i.MustDrop()
	a.MustDrop()
	return out
}

// forward returns LayerNorm(dropout(dense(x)) + residual); it keeps x and residual.
func (d *RobertaDenseNorm) forward(x, residual *ts.Tensor, c RobertaConfig, train bool) *ts.Tensor {
	y := hfDropout(d.Dense.Forward(x, train), c.HiddenDropoutProb, train)
	y = y.MustAdd(residual, true)
	out := d.LayerNorm.Forward(y)
	y.MustDrop()
	return out
}
