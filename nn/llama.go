package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// LlamaOptions choose how a Llama model is built.
type LlamaOptions struct {
	// DType of the frozen base weights: gotch.Float (also chosen by the zero value), gotch.BFloat16 or gotch.Half
	// (CUDA only). LoRA adapters stay fp32 whatever the base dtype.
	DType gotch.DType
	// Device holds every tensor; the zero value means the CPU.
	Device gotch.Device
	// RNG initialises new weights as transformers does (N(0, initializer_range), norms at 1, biases and the
	// padding row at 0). nil leaves weights at zero, for a model whose weights are loaded next.
	RNG *rand.Rand
}

// resolve fills in defaults and checks the dtype.
func (o LlamaOptions) resolve() (LlamaOptions, error) {
	if o.DType == gotch.Uint8 {
		o.DType = gotch.Float
	}
	if o.DType != gotch.Float && o.DType != gotch.BFloat16 && o.DType != gotch.Half {
		return o, fmt.Errorf("llama: base dtype %v is not supported (want Float, BFloat16 or Half)", o.DType)
	}
	if o.Device.Name == "" {
		o.Device = gotch.CPU
	}
	if o.DType == gotch.Half && o.Device.CInt() == gotch.CPU.CInt() {
		return o, fmt.Errorf("llama: fp16 weights need a CUDA device (libtorch has no fp16 matmul on the CPU); use BFloat16")
	}
	return o, nil
}

// llamaInit creates one frozen weight of the model: N(0, std) drawn from o.RNG (zeroRow ≥ 0 zeroes that row),
// or a constant when o.RNG is nil or std is not positive.
func llamaInit(o LlamaOptions, shape []int64, std, constant float64, zeroRow int) *ts.Tensor {
	if o.RNG == nil || std <= 0 {
		if constant == 0 {
			return ts.MustZeros(shape, o.DType, o.Device)
		}
		return ts.MustFull(shape, ts.FloatScalar(constant), o.DType, o.Device)
	}
	v := make([]float32, numel(shape))
	for i := range v {
		v[i] = float32(std * o.RNG.NormFloat64())
	}
	if zeroRow >= 0 && len(shape) == 2 {
		w := int(shape[1])
		clear(v[zeroRow*w : (zeroRow+1)*w])
	}
	t := ts.MustOfSlice(v).MustView(shape, true)
	return t.MustToDevice(o.Device, o.DType, false, false, true)
}

// llamaLinear creates an [out, in] Linear with an optional zero bias.
func llamaLinear(o LlamaOptions, in, out int, bias bool, std float64) *Linear {
	w := llamaInit(o, []int64{int64(out), int64(in)}, std, 0, -1)
	var b *ts.Tensor
	if bias {
		b = ts.MustZeros([]int64{int64(out)}, o.DType, o.Device)
	}
	return NewLinear(w, b)
}

// LlamaAttention is grouped-query self-attention with rotary embeddings (Hugging Face's LlamaAttention).
type LlamaAttention struct {
	QProj *Linear `name:"q_proj"` // [heads·D, hidden]
	KProj *Linear `name:"k_proj"` // [kvHeads·D, hidden]
	VProj *Linear `name:"v_proj"` // [kvHeads·D, hidden]
	OProj *Linear `name:"o_proj"` // [hidden, heads·D]

	heads, kvHeads, headDim int64
	dropout                 float64
}

// LlamaMLP is the SwiGLU feed-forward block: down(silu(gate(x)) · up(x)).
type LlamaMLP struct {
	GateProj *Linear `name:"gate_proj"` // [intermediate, hidden]
	UpProj   *Linear `name:"up_proj"`   // [intermediate, hidden]
	DownProj *Linear `name:"down_proj"` // [hidden, intermediate]
}

// LlamaDecoderLayer is one pre-norm transformer block.
type LlamaDecoderLayer struct {
	InputLayernorm         *LlamaRMSNorm   `name:"input_layernorm"`
	SelfAttn               *LlamaAttention `name:"self_attn"`
	PostAttentionLayernorm *LlamaRMSNorm   `name:"post_attention_layernorm"`
	MLP                    *LlamaMLP       `name:"mlp"`
}

// LlamaModel is the Llama decoder stack without a head (Hugging Face's LlamaModel, checkpoint prefix "model").
type LlamaModel struct {
	Config      LlamaConfig
	EmbedTokens *Embedding           `name:"embed_tokens"` // [vocab, hidden]
	Layers      []*LlamaDecoderLayer `name:"layers"`
	Norm        *LlamaRMSNorm        `name:"norm"`
	Rotary      *LlamaRotary

	dtype  gotch.DType
	device gotch.Device
}

// NewLlamaModel builds the decoder stack for cfg.
func NewLlamaModel(cfg *LlamaConfig, o LlamaOptions) (*LlamaModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	c := *cfg
	h, inter, d := c.HiddenSize, c.IntermediateSize, c.HeadDim()
	std := c.InitializerRange
	m := &LlamaModel{Config: c, Rotary: NewLlamaRotary(&c), dtype: o.DType, device: o.Device}
	emb := llamaInit(o, []int64{int64(c.VocabSize), int64(h)}, std, 0, c.PadTokenID)
	m.EmbedTokens = NewEmbedding(emb)
	if c.PadTokenID >= 0 {
		m.EmbedTokens.PaddingIdx = int64(c.PadTokenID)
	}
	norm := func() *LlamaRMSNorm { return NewLlamaRMSNorm(llamaInit(o, []int64{int64(h)}, 0, 1, -1), c.RMSNormEps) }
	for range c.NumHiddenLayers {
		m.Layers = append(m.Layers, &LlamaDecoderLayer{
			InputLayernorm: norm(),
			SelfAttn: &LlamaAttention{
				QProj:   llamaLinear(o, h, c.NumAttentionHeads*d, c.AttentionBias, std),
				KProj:   llamaLinear(o, h, c.NumKeyValueHeads*d, c.AttentionBias, std),
				VProj:   llamaLinear(o, h, c.NumKeyValueHeads*d, c.AttentionBias, std),
				OProj:   llamaLinear(o, c.NumAttentionHeads*d, h, c.AttentionBias, std),
				heads:   int64(c.NumAttentionHeads),
				kvHeads: int64(c.NumKeyValueHeads),
				headDim: int64(d),
				dropout: c.AttentionDropout,
			},
			PostAttentionLayernorm: norm(),
			MLP: &LlamaMLP{
				GateProj: llamaLinear(o, h, inter, c.MLPBias, std),
				UpProj:   llamaLinear(o, h, inter, c.MLPBias, std),
				DownProj: llamaLinear(o, inter, h, c.MLPBias, std),
			},
		})
	}
	m.Norm = norm()
	return m, nil
}

// DType returns the dtype of the base weights.
func (m *LlamaModel) DType() gotch.DType { return m.dtype }

// Device returns the device of the weights.
func (m *LlamaModel) Device() gotch.Device { return m.device }

// CheckInput validates ids [B, T] (int64, every id in the vocabulary) and mask (nil, or [B, T] of 0/1 values)
// before Forward, whose tensor operations cannot report errors.
func (m *LlamaModel) CheckInput(ids, mask *ts.Tensor) error {
	if ids == nil || !ids.MustDefined() {
		return fmt.Errorf("llama: ids tensor is missing")
	}
	s := ids.MustSize()
	if len(s) != 2 || s[0] == 0 || s[1] == 0 {
		return fmt.Errorf("llama: ids must be a non-empty [B, T] tensor, got shape %v", s)
	}
	if ids.DType() != gotch.Int64 {
		return fmt.Errorf("llama: ids must be int64, got %v", ids.DType())
	}
	lo, hi := llamaMinMax(ids)
	if lo < 0 || hi >= int64(m.Config.VocabSize) {
		return fmt.Errorf("llama: token ids must be in [0, %d), got values in [%d, %d]", m.Config.VocabSize, lo, hi)
	}
	if mask == nil {
		return nil
	}
	if ms := mask.MustSize(); !equalShapes(ms, s) {
		return fmt.Errorf("llama: mask shape %v differs from ids shape %v", ms, s)
	}
	if mask.DType() != gotch.Int64 {
		return fmt.Errorf("llama: mask must be int64, got %v", mask.DType())
	}
	if lo, hi := llamaMinMax(mask); lo < 0 || hi > 1 {
		return fmt.Errorf("llama: mask values must be 0 or 1, got values in [%d, %d]", lo, hi)
	}
	return nil
}

// llamaMinMax returns the smallest and largest element of a non-empty integer tensor.
func llamaMinMax(t *ts.Tensor) (lo, hi int64) {
	a := t.MustMin(false).MustTo(gotch.CPU, true)
	b := t.MustMax(false).MustTo(gotch.CPU, true)
	return a.Int64Values(true)[0], b.Int64Values(true)[0]
}

// Forward maps ids [B, T] (int64) and an attention mask [B, T] (1 = token, 0 = padding; nil for none) to the
// final normed hidden states [B, T, hidden] in the model's dtype. Positions run 0…T-1 whatever the padding, as in
// transformers' forward without position_ids. train enables attention and adapter dropout.
func (m *LlamaModel) Forward(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, nil, train)
}

// ForwardAt returns the final normed hidden state at one position of each sequence, pos [B] (int64): [B, 1,
// hidden], equal to Forward's states there, but the last layer computes its queries, attention output and MLP
// for those positions alone (what a classification head or next-token scoring reads).
func (m *LlamaModel) ForwardAt(ids, mask, pos *ts.Tensor, train bool) *ts.Tensor {
	if pos.MustDevice().CInt() != m.device.CInt() {
		pos = pos.MustTo(m.device, false)
		defer pos.MustDrop()
	}
	return m.forward(ids, mask, pos, train)
}

// forward runs the stack; with pos set the last layer computes only the positions pos [B].
func (m *LlamaModel) forward(ids, mask, pos *ts.Tensor, train bool) *ts.Tensor {
	s := ids.MustSize()
	B, T := s[0], s[1]
	if ids.MustDevice().CInt() != m.device.CInt() {
		ids = ids.MustTo(m.device, false)
		defer ids.MustDrop()
	}
	h := m.EmbedTokens.Forward(ids)
	if h.DType() != m.dtype {
		h = h.MustTotype(m.dtype, true)
	}
	cos, sin := m.Rotary.CosSin(T, m.dtype, m.device)
	attnMask := m.attentionMask(mask, B, T)
	for i, l := range m.Layers {
		var at *ts.Tensor
		if i == len(m.Layers)-1 {
			at = pos
		}
		next := l.forward(h, cos, sin, attnMask, at, train)
		h.MustDrop()
		h = next
	}
	cos.MustDrop()
	sin.MustDrop()
	attnMask.MustDrop()
	out := m.Norm.Forward(h)
	h.MustDrop()
	return out
}

// llamaMinValue is torch.finfo(dtype).min, the additive mask value transformers uses.
func llamaMinValue(dt gotch.DType) float64 {
	switch dt {
	case gotch.Half:
		return -65504
	case gotch.BFloat16:
		return -3.3895313892515355e38
	}
	return -math.MaxFloat32
}

// attentionMask returns the mask of a causal model with key padding: without padding (mask nil or all ones) a
// boolean [1, 1, T, T] causal mask (true = may attend), else the additive [B, 1, T, T] mask transformers builds
// (0 where a query may attend, finfo.min elsewhere, so that fully masked rows of left padding stay finite).
func (m *LlamaModel) attentionMask(mask *ts.Tensor, B, T int64) *ts.Tensor {
	pos := ts.MustArange(ts.IntScalar(T), gotch.Int64, m.device)
	qi := pos.MustView([]int64{T, 1}, false)
	kj := pos.MustView([]int64{1, T}, true)
	causal := kj.MustLeTensor(qi, true).MustView([]int64{1, 1, T, T}, true) // key ≤ query
	qi.MustDrop()
	if mask == nil {
		return causal
	}
	if lo, _ := llamaMinMax(mask); lo == 1 {
		return causal
	}
	full := []int64{B, 1, T, T}
	causal = causal.MustExpand(full, false, true)
	keys := mask.MustTo(m.device, false).MustNe(ts.IntScalar(0), true).MustView([]int64{B, 1, 1, T}, true).
		MustExpand(full, false, true)
	allowed := causal.MustLogicalAnd(keys, true)
	keys.MustDrop()
	blocked := allowed.MustLogicalNot(true)
	zeros := ts.MustZeros(full, m.dtype, m.device)
	out := zeros.MustMaskedFill(blocked, ts.FloatScalar(llamaMinValue(m.dtype)), true)
	blocked.MustDrop()
	return out
}

// Forward runs the block on x [B, T, hidden].
func (l *LlamaDecoderLayer) Forward(x, cos, sin, attnMask *ts.Tensor, train bool) *ts.Tensor {
	return l.forward(x, cos, sin, attnMask, nil, train)
}

// forward runs the block on x [B, T, hidden]; with pos [B] set only those positions' outputs are computed,
// [B, 1, hidden].
func (l *LlamaDecoderLayer) forward(x, cos, sin, attnMask, pos *ts.Tensor, train bool) *ts.Tensor {
	n := l.InputLayernorm.Forward(x)
	a := l.SelfAttn.forward(n, cos, sin, attnMask, pos, train)
	n.MustDrop()
	res := x
	if pos != nil {
		res = rowsAt(x, pos)
		defer res.MustDrop()
	}
	h := res.MustAdd(a, false)
	a.MustDrop()
	n = l.PostAttentionLayernorm.Forward(h)
	f := l.MLP.Forward(n, train)
	n.MustDrop()
	out := h.MustAdd(f, true)
	f.MustDrop()
	return out
}

// Forward maps x [B, T, hidden] to [B, T, hidden].
func (p *LlamaMLP) Forward(x *ts.Tensor, train bool) *ts.Tensor {
	g := p.GateProj.Forward(x, train).MustSilu(true)
	u := p.UpProj.Forward(x, train)
	gu := g.MustMul(u, true)
	u.MustDrop()
	out := p.DownProj.Forward(gu, train)
	gu.MustDrop()
	return out
}

// Forward attends over x [B, T, hidden] with rotary tables cos, sin [T, D] and an attention mask broadcastable to
// [B, heads, T, T]: boolean (true = may attend) or additive in the model's dtype.
func (a *LlamaAttention) Forward(x, cos, sin, attnMask *ts.Tensor, train bool) *ts.Tensor {
	return a.forward(x, cos, sin, attnMask, nil, train)
}

// forward is Forward; with pos [B] set only those positions query, and the output is [B, 1, hidden].
func (a *LlamaAttention) forward(x, cos, sin, attnMask, pos *ts.Tensor, train bool) *ts.Tensor {
	B := x.MustSize()[0]
	heads := func(l *Linear, in *ts.Tensor, n int64) *ts.Tensor {
		t := in.MustSize()[1]
		return l.Forward(in, train).MustView([]int64{B, t, n, a.headDim}, true).MustTranspose(1, 2, true)
	}
	xq, cosq, sinq, maskq := x, cos, sin, attnMask
	if pos != nil {
		// the rotary tables at each sequence's position, [B, 1, 1, D], broadcast over the heads
		at := func(t *ts.Tensor) *ts.Tensor {
			return t.MustIndexSelect(0, pos, false).MustView([]int64{B, 1, 1, -1}, true)
		}
		xq, cosq, sinq, maskq = rowsAt(x, pos), at(cos), at(sin), maskRowsAt(attnMask, pos)
		defer func() {
			for _, t := range []*ts.Tensor{xq, cosq, sinq, maskq} {
				t.MustDrop()
			}
		}()
	}
	q0, k0 := heads(a.QProj, xq, a.heads), heads(a.KProj, x, a.kvHeads)
	v := heads(a.VProj, x, a.kvHeads)
	q := LlamaApplyRotary(q0, cosq, sinq)
	k := LlamaApplyRotary(k0, cos, sin)
	q0.MustDrop()
	k0.MustDrop()
	p := 0.0
	if train {
		p = a.dropout
	}
	// enable_gqa: each group of heads/kvHeads query heads attends with one kv head, without materialising the
	// repeated keys and values.
	o := ts.MustScaledDotProductAttention(q, k, v, maskq, p, false, nil, a.heads != a.kvHeads) // [B, H, Tq, D]
	q.MustDrop()
	k.MustDrop()
	v.MustDrop()
	o = o.MustTranspose(1, 2, true).MustReshape([]int64{B, -1, a.heads * a.headDim}, true)
	out := a.OProj.Forward(o, train)
	o.MustDrop()
	return out
}
