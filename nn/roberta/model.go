package roberta

import (
	"math"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Embeddings sums word, position and token-type embeddings, then applies LayerNorm and dropout.
type Embeddings struct {
	WordEmbeddings      *nn.Embedding `name:"word_embeddings"`       // [vocab_size, hidden]
	PositionEmbeddings  *nn.Embedding `name:"position_embeddings"`   // [max_position_embeddings, hidden]
	TokenTypeEmbeddings *nn.Embedding `name:"token_type_embeddings"` // [type_vocab_size, hidden]
	LayerNorm           *nn.LayerNorm `name:"LayerNorm"`
}

// SelfAttention holds the query, key and value projections [hidden, hidden].
type SelfAttention struct {
	Query *nn.Linear `name:"query"`
	Key   *nn.Linear `name:"key"`
	Value *nn.Linear `name:"value"`
}

// DenseNorm is a dense layer followed by dropout, a residual sum and LayerNorm (RobertaSelfOutput and
// RobertaOutput).
type DenseNorm struct {
	Dense     *nn.Linear    `name:"dense"`
	LayerNorm *nn.LayerNorm `name:"LayerNorm"`
}

// Attention is self-attention with its output block.
type Attention struct {
	Self   *SelfAttention `name:"self"`
	Output *DenseNorm     `name:"output"`
}

// Intermediate is the first layer of the feed-forward block [hidden, intermediate_size].
type Intermediate struct {
	Dense *nn.Linear `name:"dense"`
}

// Layer is one post-LN encoder layer.
type Layer struct {
	Attention    *Attention    `name:"attention"`
	Intermediate *Intermediate `name:"intermediate"`
	Output       *DenseNorm    `name:"output"`
}

// Encoder is the stack of layers.
type Encoder struct {
	Layer []*Layer `name:"layer"`
}

// Model is transformers' RobertaModel without the pooler (as RobertaForSequenceClassification builds
// it; checkpoints' pooler tensors are skipped on load). Tensor names follow the state_dict, e.g.
// "encoder.layer.0.attention.self.query.weight".
type Model struct {
	Config     Config
	Embeddings *Embeddings `name:"embeddings"`
	Encoder    *Encoder    `name:"encoder"`
	act        nn.Activation
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
	act, _ := nn.ParseActivation(cfg.HiddenAct)
	z := func(shape ...int64) *ts.Tensor { return ts.MustZeros(shape, dtype, dev) }
	d, inner := cfg.HiddenSize, cfg.IntermediateSize
	ln := func() *nn.LayerNorm {
		return nn.NewLayerNorm(ts.MustOnes([]int64{d}, dtype, dev), z(d), cfg.LayerNormEps)
	}
	lin := func(in, out int64) *nn.Linear { return nn.NewLinear(z(out, in), z(out)) }
	words := nn.NewEmbedding(z(cfg.VocabSize, d))
	words.PaddingIdx = cfg.PadID()
	pos := nn.NewEmbedding(z(cfg.MaxPositionEmbeddings, d))
	pos.PaddingIdx = cfg.PadID()
	m := &Model{Config: cfg, act: act, Encoder: &Encoder{},
		Embeddings: &Embeddings{WordEmbeddings: words, PositionEmbeddings: pos,
			TokenTypeEmbeddings: nn.NewEmbedding(z(cfg.TypeVocabSize, d)), LayerNorm: ln()}}
	for i := int64(0); i < cfg.NumHiddenLayers; i++ {
		m.Encoder.Layer = append(m.Encoder.Layer, &Layer{
			Attention: &Attention{
				Self:   &SelfAttention{Query: lin(d, d), Key: lin(d, d), Value: lin(d, d)},
				Output: &DenseNorm{Dense: lin(d, d), LayerNorm: ln()},
			},
			Intermediate: &Intermediate{Dense: lin(d, inner)},
			Output:       &DenseNorm{Dense: lin(inner, d), LayerNorm: ln()},
		})
	}
	return m, nil
}

// Forward maps ids [B, T] (int64) and mask [B, T] (int64, 1 = token, 0 = padding; nil for none) to the hidden
// states [B, T, hidden]. Positions count the non-pad tokens from padding_idx+1 and pad tokens sit at padding_idx,
// as transformers' create_position_ids_from_input_ids; token types are all 0. train enables dropout. Inputs
// are not checked: see CheckInputs.
func (m *Model) Forward(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, train, false)
}

// ForwardFirst returns the hidden state of the first token only, [B, 1, hidden], what the classification head
// reads: equal to Forward's first position, but the last layer computes its query, attention output and
// feed-forward for that position alone.
func (m *Model) ForwardFirst(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, train, true)
}

func (m *Model) forward(ids, mask *ts.Tensor, train, firstOnly bool) *ts.Tensor {
	c := m.Config
	e := m.Embeddings
	pos := positions(ids, c.PadID())
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
	h = nn.Dropout(h, c.HiddenDropoutProb, train)
	// additive key-padding bias [B, 1, 1, T]; nil (no mask) attends everywhere
	var bias *ts.Tensor
	if mask != nil {
		s := mask.MustSize()
		pad := mask.MustEq(ts.IntScalar(0), false).MustView([]int64{s[0], 1, 1, s[1]}, true)
		bias = nn.MaskedBias(pad, h.DType())
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

// positions returns (cumsum(ids ≠ pad)·(ids ≠ pad)) + pad for ids [B, T].
func positions(ids *ts.Tensor, pad int64) *ts.Tensor {
	tok := ids.MustNe(ts.IntScalar(pad), false).MustTotype(gotch.Int64, true)
	pos := tok.MustCumsum(1, gotch.Int64, false).MustMul(tok, true).MustAddScalar(ts.IntScalar(pad), true)
	tok.MustDrop()
	return pos
}

// forward runs one layer on h [B, T, hidden] and keeps h. With firstOnly the queries and everything after the
// attention (per-token work) are computed for position 0 alone: the output is [B, 1, hidden].
func (l *Layer) forward(h, bias *ts.Tensor, c Config, act nn.Activation, scale float64, train, firstOnly bool) *ts.Tensor {
	sa := l.Attention.Self
	hq := h
	if firstOnly {
		hq = h.MustNarrow(1, 0, 1, false)
		defer hq.MustDrop()
	}
	q := nn.SplitHeads(sa.Query.ForwardT(hq, train), c.NumAttentionHeads, true)
	k := nn.SplitHeads(sa.Key.ForwardT(h, train), c.NumAttentionHeads, true)
	v := nn.SplitHeads(sa.Value.ForwardT(h, train), c.NumAttentionHeads, true)
	ctx := nn.MergeHeads(nn.Attend(q, k, v, bias, scale, c.AttentionProbsDropoutProb, train), true)
	a := l.Attention.Output.forward(ctx, hq, c, train)
	ctx.MustDrop()
	i := act(l.Intermediate.Dense.ForwardT(a, train))
	out := l.Output.forward(i, a, c, train)
	i.MustDrop()
	a.MustDrop()
	return out
}

// forward returns LayerNorm(dropout(dense(x)) + residual); it keeps x and residual.
func (d *DenseNorm) forward(x, residual *ts.Tensor, c Config, train bool) *ts.Tensor {
	y := nn.Dropout(d.Dense.ForwardT(x, train), c.HiddenDropoutProb, train)
	y = y.MustAdd(residual, true)
	out := d.LayerNorm.Forward(y)
	y.MustDrop()
	return out
}
