package llama

import (
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// ForCausalLM is a Llama language model (Hugging Face's LlamaForCausalLM): the decoder stack and an lm_head
// projecting to the vocabulary. With tie_word_embeddings the head reuses the embedding table and LMHead is nil
// (so there is no lm_head layer to adapt; an adapter on embed_tokens does not reach the head, as in PEFT).
type ForCausalLM struct {
	Model  *Model     `name:"model"`
	LMHead *nn.Linear `name:"lm_head"` // [vocab, hidden]; nil when tied
}

// New builds a language model for cfg.
func New(cfg *Config, o BuildOptions) (*ForCausalLM, error) {
	m, err := NewModel(cfg, o)
	if err != nil {
		return nil, err
	}
	lm := &ForCausalLM{Model: m}
	if !cfg.TieWordEmbeddings {
		o, _ = o.resolve()
		lm.LMHead = llamaLinear(o, cfg.HiddenSize, cfg.VocabSize, false, cfg.InitializerRange)
	}
	return lm, nil
}

// Logits maps ids [B, T] (int64) and an attention mask [B, T] (1 = token, 0 = padding; nil for none) to next-token
// logits [B, T, vocab] in fp32 (transformers 4.44 casts them to fp32 too). train enables dropout. Check inputs
// first with Model.CheckInputs.
func (m *ForCausalLM) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.head(m.Model.Forward(ids, mask, train), train)
}

// LogitsCached is Logits for ids [B, T] that continue the sequences held in c (see Model.ForwardCached): it adds
// their keys and values to c and returns their next-token logits [B, T, vocab] in fp32, without gradients.
func (m *ForCausalLM) LogitsCached(ids *ts.Tensor, c *Cache) (*ts.Tensor, error) {
	return m.cached(ids, c, false)
}

// NextLogits continues the sequences held in c with ids [B, T] as LogitsCached does, but returns only the logits
// of the last position, [B, vocab] in fp32: the distribution of each sequence's next token. The head runs on that
// position alone.
func (m *ForCausalLM) NextLogits(ids *ts.Tensor, c *Cache) (*ts.Tensor, error) {
	return m.cached(ids, c, true)
}

// cached runs a cached step; with last only the last position goes through the head.
func (m *ForCausalLM) cached(ids *ts.Tensor, c *Cache, last bool) (*ts.Tensor, error) {
	h, err := m.Model.ForwardCached(ids, c)
	if err != nil {
		return nil, err
	}
	if last {
		h = h.MustSelect(1, h.MustSize()[1]-1, true)
	}
	var y *ts.Tensor
	nn.NoGrad(func() { y = m.head(h, false) })
	return y, nil
}

// head maps final hidden states h [..., hidden] to fp32 logits [..., vocab] through lm_head (or the tied
// embedding table), dropping h.
func (m *ForCausalLM) head(h *ts.Tensor, train bool) *ts.Tensor {
	var y *ts.Tensor
	if m.LMHead != nil {
		y = m.LMHead.ForwardT(h, train)
	} else {
		y = ts.MustLinear(h, m.Model.EmbedTokens.Weight, ts.None)
	}
	h.MustDrop()
	if y.DType() != gotch.Float {
		y = y.MustTotype(gotch.Float, true)
	}
	return y
}

// ForSequenceClassification is a Llama classifier (Hugging Face's LlamaForSequenceClassification): the
// decoder stack and a bias-free score head read at each sequence's last token. The head is kept in fp32 whatever
// the base dtype, since it trains.
type ForSequenceClassification struct {
	Model *Model     `name:"model"`
	Score *nn.Linear `name:"score"` // [num_labels, hidden], fp32
}

// NewForSequenceClassification builds a classifier with cfg.NumLabels classes.
func NewForSequenceClassification(cfg *Config, o BuildOptions) (*ForSequenceClassification, error) {
	m, err := NewModel(cfg, o)
	if err != nil {
		return nil, err
	}
	o, _ = o.resolve()
	o.DType = gotch.Float
	return &ForSequenceClassification{Model: m, Score: llamaLinear(o, cfg.HiddenSize, cfg.NumLabels, false, cfg.InitializerRange)}, nil
}

// Logits maps ids [B, T] (int64) and an attention mask [B, T] to class logits [B, num_labels] in fp32
// (nn.SequenceClassifier). The pooled token is transformers' choice: with a pad_token_id, the row's rightmost
// token that is not the pad id (left or right padding); without one, the last position whose mask is 1 (the
// last position when mask is nil).
func (m *ForSequenceClassification) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	last := m.lastTokens(ids, mask, ids.MustSize()[1]) // [B]
	h := m.Model.ForwardAt(ids, mask, last, train)     // [B, 1, hidden]
	last.MustDrop()
	pooled := h.MustSelect(1, 0, true)
	if pooled.DType() != gotch.Float {
		pooled = pooled.MustTotype(gotch.Float, true)
	}
	out := m.Score.ForwardT(pooled, train)
	pooled.MustDrop()
	return out
}

// lastTokens returns the pooled position of each row [B] (int64).
func (m *ForSequenceClassification) lastTokens(ids, mask *ts.Tensor, T int64) *ts.Tensor {
	dev := m.Model.device
	if ids.MustDevice().CInt() != dev.CInt() {
		ids = ids.MustTo(dev, false)
		defer ids.MustDrop()
	}
	if mask != nil && mask.MustDevice().CInt() != dev.CInt() {
		mask = mask.MustTo(dev, false)
		defer mask.MustDrop()
	}
	if pad := m.Model.Config.PadTokenID; pad >= 0 {
		return nn.LastNonPad(ids, int64(pad))
	}
	if mask == nil {
		b := ids.MustSize()[0]
		return ts.MustFull([]int64{b}, ts.IntScalar(T-1), gotch.Int64, dev)
	}
	// the largest position with mask 1: max over t of mask[t]·(t+1), minus 1
	pos := ts.MustArangeStartStep(ts.IntScalar(1), ts.IntScalar(T+1), ts.IntScalar(1), gotch.Int64, dev)
	w := mask.MustTotype(gotch.Int64, false).MustMul(pos, true)
	pos.MustDrop()
	mx, idx := w.MustMaxDim(-1, false, true)
	idx.MustDrop()
	return mx.MustSubScalar(ts.IntScalar(1), true).MustClampMin(ts.IntScalar(0), true)
}

// Head returns the score weight under its checkpoint name ("score.weight"); it trains with the adapters.
func (m *ForSequenceClassification) Head() []nn.NamedTensor {
	return []nn.NamedTensor{{Name: "score.weight", Tensor: m.Score.Weight}}
}

var (
	_ nn.SequenceClassifier = (*ForSequenceClassification)(nil)
	_ nn.InputChecker       = (*ForSequenceClassification)(nil)
	_ nn.InputChecker       = (*ForCausalLM)(nil)
	_ nn.InputChecker       = (*Model)(nil)
)

// CheckInputs validates a batch before Logits (nn.InputChecker): see Model.CheckInputs.
func (m *ForSequenceClassification) CheckInputs(ids, mask *ts.Tensor) error {
	return m.Model.CheckInputs(ids, mask)
}

// CheckInputs validates a batch before Logits (nn.InputChecker): see Model.CheckInputs.
func (m *ForCausalLM) CheckInputs(ids, mask *ts.Tensor) error { return m.Model.CheckInputs(ids, mask) }
