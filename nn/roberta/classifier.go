package roberta

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/weights"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// ClassificationHead maps the hidden state of <s> through dense [hidden, hidden], tanh and
// out_proj [hidden, num_labels], with dropout before each linear layer.
type ClassificationHead struct {
	Dense   *nn.Linear `name:"dense"`
	OutProj *nn.Linear `name:"out_proj"`
}

// ForSequenceClassification is transformers' RobertaForSequenceClassification: a Model under
// "roberta." and the head under "classifier.".
type ForSequenceClassification struct {
	Roberta    *Model              `name:"roberta"`
	Classifier *ClassificationHead `name:"classifier"`
}

var (
	_ nn.SequenceClassifier = (*ForSequenceClassification)(nil)
	_ nn.InputChecker       = (*ForSequenceClassification)(nil)
)

// New allocates a model of zeros with a head of numLabels classes.
func New(cfg Config, numLabels int, dtype gotch.DType, dev gotch.Device) (*ForSequenceClassification, error) {
	if numLabels <= 0 {
		return nil, fmt.Errorf("number of labels must be > 0, got %d", numLabels)
	}
	r, err := NewModel(cfg, dtype, dev)
	if err != nil {
		return nil, err
	}
	d, n := cfg.HiddenSize, int64(numLabels)
	z := func(shape ...int64) *ts.Tensor { return ts.MustZeros(shape, dtype, dev) }
	return &ForSequenceClassification{
		Roberta:    r,
		Classifier: &ClassificationHead{Dense: nn.NewLinear(z(d, d), z(d)), OutProj: nn.NewLinear(z(n, d), z(n))},
	}, nil
}

// Load builds the model of a Hugging Face RoBERTa directory and loads its
// weights. The checkpoint may be a ForSequenceClassification (keys "roberta.…" and "classifier.…"), a
// RobertaForMaskedLM (its lm_head is skipped) or a bare Model (keys without prefix); pooler tensors and
// the position_ids buffer are skipped, and LayerNorm gamma/beta keys of old checkpoints are read as
// weight/bias. Without classifier tensors the head is initialised with InitHead from o.Seed. o.PadTokenID, when
// set, replaces config.json's pad_token_id.
func Load(dir string, o nn.ClassifierOptions) (*ForSequenceClassification, error) {
	cfg, err := ReadConfig(dir)
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
	m, err := New(cfg, n, o.DType, o.Device)
	if err != nil {
		return nil, err
	}
	src, err := weights.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	lo := weights.LoadOptions{Rename: rename}
	if err := weights.LoadWithHead(m, src, m.Head(), lo, func() { m.InitHead(rand.New(rand.NewPCG(o.Seed, 0))) }); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// rename maps checkpoint keys to the classifier's names ("" skips a key).
func rename(name string) string {
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
func (m *ForSequenceClassification) InitHead(rng *rand.Rand) {
	std := m.Roberta.Config.InitializerRange
	for _, l := range []*nn.Linear{m.Classifier.Dense, m.Classifier.OutProj} {
		nn.FillNormal(l.Weight, rng, std)
		nn.FillZeros(l.Bias)
	}
}

// Head returns the classifier's tensors under their checkpoint names.
func (m *ForSequenceClassification) Head() []nn.NamedTensor {
	c := m.Classifier
	return []nn.NamedTensor{
		{Name: "classifier.dense.weight", Tensor: c.Dense.Weight}, {Name: "classifier.dense.bias", Tensor: c.Dense.Bias},
		{Name: "classifier.out_proj.weight", Tensor: c.OutProj.Weight}, {Name: "classifier.out_proj.bias", Tensor: c.OutProj.Bias},
	}
}

// CheckInputs reports inputs that Logits cannot take (its ops would abort the process): ids that are not
// int64 [B, T] with T within the position embeddings, ids outside the vocabulary, or a mask that is not int64
// [B, T] of zeros and ones. Call it on user data before Logits.
func (m *ForSequenceClassification) CheckInputs(ids, mask *ts.Tensor) error {
	c := m.Roberta.Config
	dev := m.Classifier.Dense.Weight.MustDevice()
	if err := nn.CheckInputs(ids, mask, nn.InputLimits{Vocab: c.VocabSize, MaxLen: c.MaxLength(), Device: &dev}); err != nil {
		return fmt.Errorf("roberta: %w", err)
	}
	return nil
}

// Logits maps ids [B, T] and mask [B, T] to fp32 logits [B, num_labels], classifying each sequence by its
// first token (<s>) (SequenceClassifier).
func (m *ForSequenceClassification) Logits(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	p := m.Roberta.Config.HeadDropout()
	h := m.Roberta.ForwardFirst(ids, mask, train) // [B, 1, hidden]: the <s> token the head reads
	x := nn.Dropout(h.MustSelect(1, 0, true), p, train)
	y := m.Classifier.Dense.ForwardT(x, train).MustTanh(true)
	x.MustDrop()
	y = nn.Dropout(y, p, train)
	logits := m.Classifier.OutProj.ForwardT(y, train)
	y.MustDrop()
	if logits.DType() != gotch.Float {
		logits = logits.MustTotype(gotch.Float, true)
	}
	return logits
}
