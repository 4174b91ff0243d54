package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// RobertaClassificationHead maps the hidden state of <s> through dense [hidden, hidden], tanh and
// out_proj [hidden, num_labels], with dropout before each linear layer.
type RobertaClassificationHead struct {
	Dense   *Linear `name:"dense"`
	OutProj *Linear `name:"out_proj"`
}

// RobertaForSequenceClassification is transformers' RobertaForSequenceClassification: a RobertaModel under
// "roberta." and the head under "classifier.".
type RobertaForSequenceClassification struct {
	Roberta    *RobertaModel              `name:"roberta"`
	Classifier *RobertaClassificationHead `name:"classifier"`
}

var _ SequenceClassifier = (*RobertaForSequenceClassification)(nil)

// NewRobertaForSequenceClassification allocates a model of zeros with a head of numLabels classes.
func NewRobertaForSequenceClassification(cfg RobertaConfig, numLabels int, dtype gotch.DType, dev gotch.Device) (*RobertaForSequenceClassification, error) {
	if numLabels <= 0 {
		return nil, fmt.Errorf("number of labels must be > 0, got %d", numLabels)
	}
	r, err := NewRobertaModel(cfg, dtype, dev)
	if err != nil {
		return nil, err
	}
	d, n := cfg.HiddenSize, int64(numLabels)
	z := func(shape ...int64) *ts.Tensor { return ts.MustZeros(shape, dtype, dev) }
	return &RobertaForSequenceClassification{
		Roberta:    r,
		Classifier: &RobertaClassificationHead{Dense: NewLinear(z(d, d), z(d)), OutProj: NewLinear(z(n, d), z(n))},
	}, nil
}

// LoadRobertaForSequenceClassification builds the model of a Hugging Face RoBERTa directory and loads its
// weights. The checkpoint may be a RobertaForSequenceClassification (keys "roberta.…" and "classifier.…"), a
// RobertaForMaskedLM (its lm_head is skipped) or a bare RobertaModel (keys without prefix); pooler tensors and
// the position_ids buffer are skipped, and LayerNorm gamma/beta keys of old checkpoints are read as
// weight/bias. Without classifier tensors the head is initialised with InitHead from o.Seed. o.PadTokenID, when
// set, replaces config.json's pad_token_id.
func LoadRobertaForSequenceClassification(dir string, o HFLoadOptions) (*RobertaForSequenceClassification, error) {
	cfg, err := ReadRobertaConfig(dir)
	if err != nil {
		return nil, err
	}
	if o.PadTokenID != nil {
		pad := *o.PadTokenID
		cfg.PadTokenID = &pad
	}
	n := o.NumLabels
	if n == 0 {
		n = cfg.NumLabels()
	}
	m, err := NewRobertaForSequenceClassification(cfg, n, o.DType, o.Device)
	if err != nil {
		return nil, err
	}
	src, err := OpenHFDir(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	lo := LoadOptions{Rename: robertaRename}
	if err := hfLoadWithHead(m, src, m.Head(), lo, func() { m.InitHead(rand.New(rand.NewPCG(o.Seed, 0))) }); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// robertaRename maps checkpoint keys to the classifier's names ("" skips a key).
func robertaRename(name string) string {
	switch {
	case strings.HasPrefix(name, "lm_head."), strings.HasPrefix(name, "pooler."),
		strings.HasPrefix(name, "roberta.pooler."), strings.HasSuffix(name, "embeddings.position_ids"):
		return ""
	}
	if !strings.HasPrefix(name, "roberta.") && !strings.HasPrefix(name, "classifier.") {
		name = "roberta." + name
	}
	if strings.HasSuffix(name, "LayerNorm.gamma") {
		name = strings.TrimSuffix(name, "gamma") + "weight"
	} else if strings.HasSuffix(name, "LayerNorm.beta") {
		name = strings.TrimSuffix(name, "beta") + "bias"
	}
	return name
}

// InitHead draws the head's weights from N(0, initializer_range²) and zeroes its biases, as transformers
// initialises a new head.
func (m *RobertaForSequenceClassification) InitHead(rng *rand.Rand) {
	std := m.Roberta.Config.InitializerRange
	for _, l := range []*Linear{m.Classifier.Dense, m.Classifier.OutProj} {
		hfInitNormal(l.Weight, rng, std)
		hfInitZeros(l.Bias)
	}
}

// Head returns the classifier's tensors under their checkpoint names.
func (m *RobertaForSequenceClassification) Head() []NamedTensor {
	c := m.Classifier
	return []NamedTensor{
		{"classifier.dense.weight", c.Dense.Weight}, {"classifier.dense.bias", c.Dense.Bias},
		{"classifier.out_proj.weight", c.OutProj.Weight}, {"classifier.out_proj.bias", c.OutProj.Bias},
	}
}

// CheckInputs reports inputs that Logits cannot take (its ops would abort the process): ids that are not
// int64 [B, T] with T within the position embeddings, ids outside the vocabulary, or a mask that is not int64
// [B, T] of zeros and ones. Call it on user data before Logits.
func (m *RobertaForSequenceClassification) CheckInputs(ids, mask *ts.Tensor) error {
	c := m.Roberta.Config
	return hfCheckInputs(ids, mask, c.VocabSize, c.MaxLength(), m.Classifier.Dense.Weight.MustDevice())
}

// Logits maps ids [B, T] and mask [B, T] to fp32 logits [B, num_labels], classifying each sequence by its
// first token (<s>) (SequenceClassifier).
func (m *RobertaForSequenceClassification) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	p := m.Roberta.Config.HeadDropout()
	h := m.Roberta.ForwardFirst(ids, mask, train) // [B, 1, hidden]: the <s> token the head reads
	x := hfDropout(h.MustSelect(1, 0, true), p, train)
	y := m.Classifier.Dense.Forward(x, train).MustTanh(true)
	x.MustDrop()
	y = hfDropout(y, p, train)
	logits := m.Classifier.OutProj.Forward(y, train)
	y.MustDrop()
	if logits.DType() != gotch.Float {
		logits = logits.MustTotype(gotch.Float, true)
	}
	return logits
}
