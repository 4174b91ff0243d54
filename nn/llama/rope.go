package llama

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Rotary computes Llama's rotary position embeddings in Hugging Face's rotate-half layout, with the
// rope_scaling types of transformers 4.44 (modeling_rope_utils): none, "linear", "dynamic" and "llama3".
// The frequencies are computed with the same fp32 tensor operations as transformers. With "dynamic" scaling the
// frequencies of a forward pass depend on its own length only (transformers keeps those of the longest sequence
// seen until a sequence shorter than max_position_embeddings comes).
type Rotary struct {
	Dim        int     // rotated width: the head dimension
	Base       float64 // rope_theta
	MaxPos     int     // max_position_embeddings
	Scaling    *RopeScaling
	invFreq    *ts.Tensor // [Dim/2] fp32 on the CPU, for sequences up to MaxPos
	freqFactor []float32  // divisors of the inverse frequencies (GGUF's rope_freqs), nil for none
}

// NewRotary prepares the inverse frequencies of a model.
func NewRotary(cfg *Config) *Rotary {
	r := &Rotary{Dim: cfg.HeadDim(), Base: cfg.RopeTheta, MaxPos: cfg.MaxPositionEmbeddings, Scaling: cfg.RopeScaling}
	r.invFreq = r.computeInvFreq(r.MaxPos)
	return r
}

// SetFreqFactors divides every inverse frequency by a factor (llama.cpp's rope_freqs tensor, which GGUF files of
// Llama 3.1 models carry in place of rope_scaling); len(f) must be Dim/2.
func (r *Rotary) SetFreqFactors(f []float32) error {
	if len(f) != r.Dim/2 {
		return fmt.Errorf("llama: %d rotary frequency factors for a head dimension of %d, want %d", len(f), r.Dim, r.Dim/2)
	}
	for i, x := range f {
		if !(x > 0) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("llama: rotary frequency factor %d is %v, want a positive number", i, x)
		}
	}
	r.freqFactor = append([]float32(nil), f...)
	r.invFreq.MustDrop()
	r.invFreq = r.computeInvFreq(r.MaxPos)
	return nil
}

// llamaDefaultInvFreq is 1/(base^(arange(0, dim, 2)/dim)) in fp32, as _compute_default_rope_parameters.
func llamaDefaultInvFreq(dim int, base float64) *ts.Tensor {
	ar := ts.MustArangeStartStep(ts.IntScalar(0), ts.IntScalar(int64(dim)), ts.IntScalar(2), gotch.Int64, gotch.CPU)
	ex := ar.MustTotype(gotch.Float, true).MustDivScalar(ts.IntScalar(int64(dim)), true)
	p := ts.MustPowScalar(ts.FloatScalar(base), ex)
	ex.MustDrop()
	return p.MustReciprocal(true).MustMulScalar(ts.FloatScalar(1.0), true)
}

// computeInvFreq returns the inverse frequencies [Dim/2] (fp32, CPU) for sequences of seqLen positions.
func (r *Rotary) computeInvFreq(seqLen int) *ts.Tensor {
	base := r.Base
	s := r.Scaling
	if s != nil && s.Type == "dynamic" {
		// _compute_dynamic_ntk_parameters: the base grows once the sequence outgrows max_position_embeddings.
		n := float64(max(seqLen, r.MaxPos))
		d := float64(r.Dim)
		base = base * math.Pow(s.Factor*n/float64(r.MaxPos)-(s.Factor-1), d/(d-2))
	}
	inv := llamaDefaultInvFreq(r.Dim, base)
	if s != nil {
		switch s.Type {
		case "linear":
			inv = inv.MustDivScalar(ts.FloatScalar(s.Factor), true)
		case "llama3":
			inv = llamaLlama3InvFreq(inv, s)
		}
	}
	if r.freqFactor != nil {
		ff := ts.MustOfSlice(r.freqFactor)
		inv = inv.MustDiv(ff, true)
		ff.MustDrop()
	}
	return inv
}

// llamaLlama3InvFreq applies _compute_llama3_parameters to inv (consumed).
func llamaLlama3InvFreq(inv *ts.Tensor, s *RopeScaling) *ts.Tensor {
	old := float64(s.OriginalMaxPositionEmbeddings)
	lowWL, highWL := old/s.LowFreqFactor, old/s.HighFreqFactor
	wavelen := inv.MustReciprocal(false).MustMulScalar(ts.FloatScalar(2*math.Pi), true)
	divided := inv.MustDivScalar(ts.FloatScalar(s.Factor), false)
	isLow := wavelen.MustGt(ts.FloatScalar(lowWL), false)
	llama := divided.MustWhereSelf(isLow, inv, false) // where(wavelen > low_wl, inv/factor, inv)
	divided.MustDrop()
	inv.MustDrop()
	smooth := wavelen.MustReciprocal(false).MustMulScalar(ts.FloatScalar(old), true).
		MustSubScalar(ts.FloatScalar(s.LowFreqFactor), true).
		MustDivScalar(ts.FloatScalar(s.HighFreqFactor-s.LowFreqFactor), true)
	oneMinus := smooth.MustNeg(false).MustAddScalar(ts.FloatScalar(1), true)
	a := oneMinus.MustMul(llama, true).MustDivScalar(ts.FloatScalar(s.Factor), true)
	b := smooth.MustMul(llama, true)
	smoothed := a.MustAdd(b, true)
	b.MustDrop()
	isHigh := wavelen.MustLt(ts.FloatScalar(highWL), true)
	medium := isHigh.MustLogicalNot(true).MustLogicalAnd(isLow.MustLogicalNot(true), true)
	out := smoothed.MustWhereSelf(medium, llama, true)
	medium.MustDrop()
	llama.MustDrop()
	return out
}

// CosSin returns the cos and sin tables [T, Dim] for positions 0…T-1, in dtype on dev: emb = cat(freqs, freqs)
// with freqs[t, i] = t·invFreq[i], computed in fp32 and cast, as LlamaRotaryEmbedding.forward.
func (r *Rotary) CosSin(T int64, dtype gotch.DType, dev gotch.Device) (cos, sin *ts.Tensor) {
	inv := r.invFreq
	if r.Scaling != nil && r.Scaling.Type == "dynamic" && int(T) > r.MaxPos {
		inv = r.computeInvFreq(int(T))
		defer inv.MustDrop()
	}
	pos := ts.MustArange(ts.IntScalar(T), gotch.Float, gotch.CPU).MustUnsqueeze(1, true) // [T, 1]
	row := inv.MustUnsqueeze(0, false)                                                   // [1, D/2]
	freqs := pos.MustMatmul(row, true)                                                   // [T, D/2]
	row.MustDrop()
	emb := ts.MustCat([]*ts.Tensor{freqs, freqs}, 1)
	freqs.MustDrop()
	cos, sin = emb.MustCos(false), emb.MustSin(true)
	if dtype != gotch.Float || dev.CInt() != gotch.CPU.CInt() {
		cos = cos.MustToDevice(dev, dtype, false, false, true)
		sin = sin.MustToDevice(dev, dtype, false, false, true)
	}
	return cos, sin
}

// InvFreq returns a copy of the inverse frequencies [Dim/2] for sequences up to MaxPos.
func (r *Rotary) InvFreq() []float32 {
	v := make([]float32, r.Dim/2)
	r.invFreq.MustCopyData(v, uint(len(v)))
	return v
}

// ApplyRotary rotates x [B, H, T, D] with cos and sin [T, D]: x·cos + rotate_half(x)·sin, where
// rotate_half(x) = cat(−x[..., D/2:], x[..., :D/2]).
func ApplyRotary(x, cos, sin *ts.Tensor) *ts.Tensor {
	d := x.MustSize()[3]
	x1 := x.MustNarrow(3, 0, d/2, false)
	x2 := x.MustNarrow(3, d/2, d/2, false)
	nx2 := x2.MustNeg(true)
	rot := ts.MustCat([]*ts.Tensor{nx2, x1}, 3)
	nx2.MustDrop()
	x1.MustDrop()
	a := x.MustMul(cos, false)
	b := rot.MustMul(sin, true)
	out := a.MustAdd(b, true)
	b.MustDrop()
	return out
}
