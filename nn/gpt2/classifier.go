package gpt2

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// ForSequenceClassification is transformers' GPT2ForSequenceClassification: a Model under
// "transformer." and a bias-free linear "score" [num_labels, n_embd] applied to the hidden state of each
// sequence's last token that is not the pad token.
type ForSequenceClassification struct {
	Transformer *Model     `name:"transformer"`
	Score       *nn.Linear `name:"score"`
	// PadTokenID locates each sequence's last token as transformers does (5.x, and 4.x since 4.47): the rightmost
	// token that is not the pad token, so left and right padding both work. Negative means no pad token: the
	// last token is then found from the attention mask (right padding), or is the last position when the mask
	// is nil.
	PadTokenID int64
}

var (
	_ nn.SequenceClassifier = (*ForSequenceClassification)(nil)
	_ nn.InputChecker       = (*ForSequenceClassification)(nil)
)

// New allocates a model of zeros with a head of numLabels classes; the pad token
// comes from cfg.PadTokenID.
func New(cfg Config, numLabels int, dtype gotch.DType, dev gotch.Device) (*ForSequenceClassification, error) {
	if numLabels <= 0 {
		return nil, fmt.Errorf("number of labels must be > 0, got %d", numLabels)
	}
	t, err := NewModel(cfg, dtype, dev)
	if err != nil {
		return nil, err
	}
	m := &ForSequenceClassification{
		Transformer: t,
		Score:       nn.NewLinear(ts.MustZeros([]int64{int64(numLabels), cfg.NEmbd}, dtype, dev), nil),
		PadTokenID:  -1,
	}
	if cfg.PadTokenID != nil {
		m.PadTokenID = *cfg.PadTokenID
	}
	return m, nil
}

// Load builds the model of a Hugging Face GPT-2 directory and loads its weights.
// The checkpoint may be a ForSequenceClassification (keys "transformer.…" and "score.weight"), a
// GPT2LMHeadModel (its lm_head is skipped) or a bare Model (keys without prefix); without a score
// weight the head is initialised with InitHead from o.Seed. Every other model tensor must be in the
// checkpoint, and every checkpoint tensor must belong to the model, except the attn.bias and
// attn.masked_bias buffers.
func Load(dir string, o nn.ClassifierOptions) (*ForSequenceClassification, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	n := o.NumLabels
	if n == 0 {
		n = cfg.NumLabels()
	}
	m, err := New(cfg, n, o.DType, o.Device)
	if err != nil {
		return nil, err
	}
	if o.PadTokenID != nil {
		m.PadTokenID = *o.PadTokenID
	}
	src, err := weights.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	lo := weights.LoadOptions{Ignore: []string{"attn.bias", "attn.masked_bias"}, Rename: rename}
	if err := weights.LoadWithHead(m, src, m.Head(), lo, func() { m.InitHead(rand.New(rand.NewPCG(o.Seed, 0))) }); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// rename maps checkpoint keys to the classifier's names.
func rename(name string) string {
	switch {
	case strings.HasPrefix(name, "lm_head."):
		return ""
	case strings.HasPrefix(name, "transformer."), strings.HasPrefix(name, "score."):
		return name
	}
	return "transformer." + name
}

// InitHead draws the score weight from N(0, initializer_range²), as transformers initialises a new head.
func (m *ForSequenceClassification) InitHead(rng *rand.Rand) {
	nn.FillNormal(m.Score.Weight, rng, m.Transformer.Config.InitializerRange)
}

// Head returns the score weight under its checkpoint name.
func (m *ForSequenceClassification) Head() []nn.NamedTensor {
	return []nn.NamedTensor{{Name: "score.weight", Tensor: m.Score.Weight}}
}

// CheckInputs reports inputs that Logits cannot take (its ops would abort the process): ids that are not
// int64 [B, T] with T within the position embeddings, ids outside the vocabulary, or a mask that is not int64
// [B, T] of zeros and ones. Call it on user data before Logits.
func (m *ForSequenceClassification) CheckInputs(ids, mask *ts.Tensor) error {
	c := m.Transformer.Config
	dev := m.Score.Weight.MustDevice()
	if err := nn.CheckInputs(ids, mask, nn.InputLimits{Vocab: c.VocabSize, MaxLen: c.NPositions, Device: &dev}); err != nil {
		return fmt.Errorf("gpt2: %w", err)
	}
	return nil
}

// Logits maps ids [B, T] and mask [B, T] to fp32 logits [B, num_labels] (SequenceClassifier).
func (m *ForSequenceClassification) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	last := m.lastToken(ids, mask) // [B]
	h := m.Transformer.ForwardAt(ids, mask, last, train)
	last.MustDrop()
	pooled := h.MustSelect(1, 0, true) // [B, n_embd]
	logits := m.Score.ForwardT(pooled, train)
	pooled.MustDrop()
	if logits.DType() != gotch.Float {
		logits = logits.MustTotype(gotch.Float, true)
	}
	return logits
}

// lastToken returns, for ids [B, T], the index [B] (int64) of the token each sequence is classified by.
func (m *ForSequenceClassification) lastToken(ids, mask *ts.Tensor) *ts.Tensor {
	s := ids.MustSize()
	switch {
	case m.PadTokenID >= 0:
		return nn.LastNonPad(ids, m.PadTokenID)
	case mask != nil:
		n := mask.MustSumDimIntlist([]int64{1}, false, gotch.Int64, false)
		return n.MustSubScalar(ts.IntScalar(1), true).MustClampMin(ts.IntScalar(0), true)
	}
	return ts.MustFull([]int64{s[0]}, ts.IntScalar(s[1]-1), gotch.Int64, ids.MustDevice())
}
