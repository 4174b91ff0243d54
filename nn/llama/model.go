package llama

import (
	"fmt"
	"math/rand/v2"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// BuildOptions choose how a Llama model is built.
type BuildOptions struct {
	// DType of the frozen base weights: gotch.Float (also chosen by the zero value), gotch.BFloat16 or gotch.Half
	// (CUDA only). LoRA adapters stay fp32 whatever the base dtype.
	DType gotch.DType
	// Device holds every tensor; the zero value means the CPU.
	Device gotch.Device
	// RNG initialises new weights as transformers does (N(0, initializer_range), norms at 1, biases and the
	// padding row at 0). nil leaves weights at zero, for a model whose weights are loaded next.
	RNG *rand.Rand
	// loading leaves the weights uninitialised (Load fills every one of them next, or fails): a 7B model's 13.5
	// GB is then neither zeroed nor touched before the checkpoint's pages take its place.
	loading bool
}

// resolve fills in defaults and checks the dtype.
func (o BuildOptions) resolve() (BuildOptions, error) {
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
func llamaInit(o BuildOptions, shape []int64, std, constant float64, zeroRow int) *ts.Tensor {
	if o.loading {
		return ts.MustEmpty(shape, o.DType, o.Device)
	}
	if o.RNG == nil || std <= 0 {
		if constant == 0 {
			return ts.MustZeros(shape, o.DType, o.Device)
		}
		return ts.MustFull(shape, ts.FloatScalar(constant), o.DType, o.Device)
	}
	v := make([]float32, nn.Numel(shape))
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
func llamaLinear(o BuildOptions, in, out int, bias bool, std float64) *nn.Linear {
	w := llamaInit(o, []int64{int64(out), int64(in)}, std, 0, -1)
	var b *ts.Tensor
	if bias {
		b = ts.MustZeros([]int64{int64(out)}, o.DType, o.Device)
	}
	return nn.NewLinear(w, b)
}

// Attention is grouped-query self-attention with rotary embeddings (Hugging Face's LlamaAttention).
type Attention struct {
	QProj *nn.Linear `name:"q_proj"` // [heads·D, hidden]
	KProj *nn.Linear `name:"k_proj"` // [kvHeads·D, hidden]
	VProj *nn.Linear `name:"v_proj"` // [kvHeads·D, hidden]
	OProj *nn.Linear `name:"o_proj"` // [hidden, heads·D]

	heads, kvHeads, headDim int64
	dropout                 float64
}

// MLP is the SwiGLU feed-forward block: down(silu(gate(x)) · up(x)).
type MLP struct {
	GateProj *nn.Linear `name:"gate_proj"` // [intermediate, hidden]
	UpProj   *nn.Linear `name:"up_proj"`   // [intermediate, hidden]
	DownProj *nn.Linear `name:"down_proj"` // [hidden, intermediate]
}

// DecoderLayer is one pre-norm transformer block.
type DecoderLayer struct {
	InputLayernorm         *RMSNorm   `name:"input_layernorm"`
	SelfAttn               *Attention `name:"self_attn"`
	PostAttentionLayernorm *RMSNorm   `name:"post_attention_layernorm"`
	MLP                    *MLP       `name:"mlp"`
}

// Model is the Llama decoder stack without a head (Hugging Face's LlamaModel, checkpoint prefix "model").
type Model struct {
	Config      Config
	EmbedTokens *nn.Embedding   `name:"embed_tokens"` // [vocab, hidden]
	Layers      []*DecoderLayer `name:"layers"`
	Norm        *RMSNorm        `name:"norm"`
	Rotary      *Rotary

	dtype  gotch.DType
	device gotch.Device
}

// NewModel builds the decoder stack for cfg.
func NewModel(cfg *Config, o BuildOptions) (*Model, error) {
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
	m := &Model{Config: c, Rotary: NewRotary(&c), dtype: o.DType, device: o.Device}
	emb := llamaInit(o, []int64{int64(c.VocabSize), int64(h)}, std, 0, c.PadTokenID)
	m.EmbedTokens = nn.NewEmbedding(emb)
	if c.PadTokenID >= 0 {
		m.EmbedTokens.PaddingIdx = int64(c.PadTokenID)
	}
	norm := func() *RMSNorm { return NewRMSNorm(llamaInit(o, []int64{int64(h)}, 0, 1, -1), c.RMSNormEps) }
	for range c.NumHiddenLayers {
		m.Layers = append(m.Layers, &DecoderLayer{
			InputLayernorm: norm(),
			SelfAttn: &Attention{
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
			MLP: &MLP{
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
func (m *Model) DType() gotch.DType { return m.dtype }

// Device returns the device of the weights.
func (m *Model) Device() gotch.Device { return m.device }

// CheckInputs validates ids [B, T] (int64, every id in the vocabulary) and mask (nil, or [B, T] of 0/1 values)
// before Forward, whose tensor operations cannot report errors (nn.InputChecker). Inputs may be on any
// device (Forward moves them) and of any length (rotary positions have no table).
func (m *Model) CheckInputs(ids, mask *ts.Tensor) error {
	if err := nn.CheckInputs(ids, mask, nn.InputLimits{Vocab: int64(m.Config.VocabSize)}); err != nil {
		return fmt.Errorf("llama: %w", err)
	}
	return nil
}

// Forward maps ids [B, T] (int64) and an attention mask [B, T] (1 = token, 0 = padding; nil for none) to the
// final normed hidden states [B, T, hidden] in the model's dtype. Positions run 0…T-1 whatever the padding, as in
// transformers' forward without position_ids. train enables attention and adapter dropout.
func (m *Model) Forward(ids, mask *ts.Tensor, train bool) *ts.Tensor {
	return m.forward(ids, mask, nil, nil, train)
}

// ForwardCached continues the sequences held in c with ids [B, T] (int64) at positions c.Len()…c.Len()+T−1 (an
// empty cache starts them at 0), adds their keys and values to c and returns their final normed hidden states
// [B, T, hidden], equal to those of Forward on the whole sequences. It runs without gradients or dropout
// (inference: generation and scoring). The sequences of a batch have equal lengths: there is no padding mask.
// The ids must be in the vocabulary (CheckInputs).
func (m *Model) ForwardCached(ids *ts.Tensor, c *Cache) (*ts.Tensor, error) {
	if err := c.check(m, ids); err != nil {
		return nil, err
	}
	var h *ts.Tensor
	nn.NoGrad(func() { h = m.forward(ids, nil, nil, c, false) })
	return h, nil
}

// ForwardAt returns the final normed hidden state at one position of each sequence, pos [B] (int64): [B, 1,
// hidden], equal to Forward's states there, but the last layer computes its queries, attention output and MLP
// for those positions alone (what a classification head or next-token scoring reads).
func (m *Model) ForwardAt(ids, mask, pos *ts.Tensor, train bool) *ts.Tensor {
	if pos.MustDevice().CInt() != m.device.CInt() {
		pos = pos.MustTo(m.device, false)
		defer pos.MustDrop()
	}
	return m.forward(ids, mask, pos, nil, train)
}

// forward runs the stack; with pos set the last layer computes only the positions pos [B]; with c set the ids
// continue the cached sequences (mask and pos are nil then).
func (m *Model) forward(ids, mask, pos *ts.Tensor, c *Cache, train bool) *ts.Tensor {
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
	var past int64
	if c != nil {
		past = c.n
	}
	cos, sin := m.Rotary.CosSin(past+T, m.dtype, m.device)
	if past > 0 {
		cos = cos.MustNarrow(0, past, T, true)
		sin = sin.MustNarrow(0, past, T, true)
	}
	var attnMask *ts.Tensor
	if c == nil {
		attnMask = m.attentionMask(mask, B, T)
	} else if T > 1 {
		attnMask = causalMask(past, T, m.device) // a single new token attends to every cached one: no mask
	}
	for i, l := range m.Layers {
		var at *ts.Tensor
		if i == len(m.Layers)-1 {
			at = pos
		}
		next := l.forward(h, cos, sin, attnMask, at, layerCache{c, i}, train)
		h.MustDrop()
		h = next
	}
	if c != nil {
		c.n += T
		c.b = B
	}
	cos.MustDrop()
	sin.MustDrop()
	if attnMask != nil {
		attnMask.MustDrop()
	}
	out := m.Norm.Forward(h)
	h.MustDrop()
	return out
}

// attentionMask returns the mask of a causal model with key padding: nil without padding (mask nil or all ones),
// which the attention runs as scaled_dot_product_attention's is_causal so that the fused kernels (flash,
// memory-efficient) apply, else the additive [B, 1, T, T] mask transformers builds (0 where a query may attend,
// finfo.min elsewhere, so that fully masked rows of left padding stay finite).
func (m *Model) attentionMask(mask *ts.Tensor, B, T int64) *ts.Tensor {
	if mask == nil {
		return nil
	}
	if lo, _ := nn.MinMax(mask); lo == 1 {
		return nil
	}
	causal := causalMask(0, T, m.device)
	full := []int64{B, 1, T, T}
	causal = causal.MustExpand(full, false, true)
	keys := mask.MustTo(m.device, false).MustNe(ts.IntScalar(0), true).MustView([]int64{B, 1, 1, T}, true).
		MustExpand(full, false, true)
	allowed := causal.MustLogicalAnd(keys, true)
	keys.MustDrop()
	blocked := allowed.MustLogicalNot(true)
	zeros := ts.MustZeros(full, m.dtype, m.device)
	out := zeros.MustMaskedFill(blocked, ts.FloatScalar(nn.MaskMin(m.dtype)), true)
	blocked.MustDrop()
	return out
}

// causalMask returns the boolean [1, 1, T, past+T] mask of T queries at positions past…past+T−1 over the keys
// at 0…past+T−1: true where the key is not after the query.
func causalMask(past, T int64, dev gotch.Device) *ts.Tensor {
	qi := ts.MustArangeStartStep(ts.IntScalar(past), ts.IntScalar(past+T), ts.IntScalar(1), gotch.Int64, dev).
		MustView([]int64{T, 1}, true)
	kj := ts.MustArange(ts.IntScalar(past+T), gotch.Int64, dev).MustView([]int64{1, past + T}, true)
	causal := kj.MustLeTensor(qi, true).MustView([]int64{1, 1, T, past + T}, true) // key ≤ query
	qi.MustDrop()
	return causal
}

// layerCache is one layer's share of a Cache; c is nil without one.
type layerCache struct {
	c *Cache
	i int
}

// Forward runs the block on x [B, T, hidden].
func (l *DecoderLayer) Forward(x, cos, sin, attnMask *ts.Tensor, train bool) *ts.Tensor {
	return l.forward(x, cos, sin, attnMask, nil, layerCache{}, train)
}

// forward runs the block on x [B, T, hidden]; with pos [B] set only those positions' outputs are computed,
// [B, 1, hidden]; with kv set the keys and values of x join the cache and the queries attend to all of them.
func (l *DecoderLayer) forward(x, cos, sin, attnMask, pos *ts.Tensor, kv layerCache, train bool) *ts.Tensor {
	n := l.InputLayernorm.Forward(x)
	a := l.SelfAttn.forward(n, cos, sin, attnMask, pos, kv, train)
	n.MustDrop()
	res := x
	if pos != nil {
		res = nn.RowsAt(x, pos)
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
func (p *MLP) Forward(x *ts.Tensor, train bool) *ts.Tensor {
	g := p.GateProj.ForwardT(x, train).MustSilu(true)
	u := p.UpProj.ForwardT(x, train)
	gu := g.MustMul(u, true)
	u.MustDrop()
	out := p.DownProj.ForwardT(gu, train)
	gu.MustDrop()
	return out
}

// Forward attends over x [B, T, hidden] with rotary tables cos, sin [T, D] and an attention mask broadcastable to
// [B, heads, T, T]: boolean (true = may attend) or additive in the model's dtype; nil is the causal mask, run as
// scaled_dot_product_attention's is_causal (no mask tensor, so CUDA's flash and memory-efficient kernels apply).
func (a *Attention) Forward(x, cos, sin, attnMask *ts.Tensor, train bool) *ts.Tensor {
	return a.forward(x, cos, sin, attnMask, nil, layerCache{}, train)
}

// forward is Forward; with pos [B] set only those positions query, and the output is [B, 1, hidden]; with kv set
// the new keys and values join the cache and the queries attend to every cached position (the rotary tables are
// those of the new positions, attnMask nil or [1, 1, T, past+T]).
func (a *Attention) forward(x, cos, sin, attnMask, pos *ts.Tensor, kv layerCache, train bool) *ts.Tensor {
	B := x.MustSize()[0]
	heads := func(l *nn.Linear, in *ts.Tensor, n int64) *ts.Tensor {
		t := in.MustSize()[1]
		return l.ForwardT(in, train).MustView([]int64{B, t, n, a.headDim}, true).MustTranspose(1, 2, true)
	}
	xq, cosq, sinq, maskq := x, cos, sin, attnMask
	if pos != nil {
		// the rotary tables at each sequence's position, [B, 1, 1, D], broadcast over the heads
		at := func(t *ts.Tensor) *ts.Tensor {
			return t.MustIndexSelect(0, pos, false).MustView([]int64{B, 1, 1, -1}, true)
		}
		full := attnMask
		if full == nil {
			full = causalMask(0, x.MustSize()[1], x.MustDevice())
			defer full.MustDrop()
		}
		xq, cosq, sinq, maskq = nn.RowsAt(x, pos), at(cos), at(sin), nn.MaskRowsAt(full, pos)
		defer func() {
			for _, t := range []*ts.Tensor{xq, cosq, sinq, maskq} {
				t.MustDrop()
			}
		}()
	}
	q0, k0 := heads(a.QProj, xq, a.heads), heads(a.KProj, x, a.kvHeads)
	v := heads(a.VProj, x, a.kvHeads)
	q := ApplyRotary(q0, cosq, sinq)
	k := ApplyRotary(k0, cos, sin)
	q0.MustDrop()
	k0.MustDrop()
	if kv.c != nil {
		nk, nv := kv.c.store(kv.i, k, v)
		k.MustDrop()
		v.MustDrop()
		k, v = nk, nv
	}
	p := 0.0
	if train {
		p = a.dropout
	}
	// No mask without a cache is the causal mask of T queries over the same T keys: is_causal. (With a cache a
	// chunk's mask is explicit, and one new token needs none: it attends to every cached key.)
	causal := maskq == nil && kv.c == nil
	// enable_gqa: each group of heads/kvHeads query heads attends with one kv head, without materialising the
	// repeated keys and values.
	o := ts.MustScaledDotProductAttention(q, k, v, maskq, p, causal, nil, a.heads != a.kvHeads) // [B, H, Tq, D]
	q.MustDrop()
	k.MustDrop()
	v.MustDrop()
	o = o.MustTranspose(1, 2, true).MustReshape([]int64{B, -1, a.heads * a.headDim}, true)
	out := a.OProj.ForwardT(o, train)
	o.MustDrop()
	return out
}
