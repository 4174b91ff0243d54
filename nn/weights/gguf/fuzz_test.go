package gguf

import (
	"bytes"
	"testing"
)

// fuzzLlamaFile is a small Llama-shaped file: hyperparameters, a tokenizer
// and permuted q/k tensors of several types.
func fuzzLlamaFile() []byte {
	return buildGGUF(3, []testKV{
		{"general.architecture", "llama"},
		{"general.alignment", uint32(16)},
		{"llama.block_count", uint32(1)},
		{"llama.context_length", uint32(64)},
		{"llama.embedding_length", uint32(32)},
		{"llama.feed_forward_length", uint32(64)},
		{"llama.attention.head_count", uint32(2)},
		{"llama.attention.head_count_kv", uint32(1)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.rope.scaling.type", "linear"},
		{"llama.rope.scaling.factor", float32(2)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", testArr{ValueString, []any{"<unk>", "<s>", "a"}}},
		{"tokenizer.ggml.scores", testArr{ValueFloat32, []any{float32(0), float32(0), float32(-1)}}},
		{"tokenizer.ggml.token_type", testArr{ValueInt32, []any{int32(2), int32(3), int32(1)}}},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.add_bos_token", true},
	}, []testTensor{
		{name: "token_embd.weight", typ: TypeQ8_0, dims: []uint64{32, 3}, data: bytes.Repeat([]byte{0x3c, 0, 1, 2}, 3*34/4+1)[:3*34]},
		{name: "blk.0.attn_q.weight", typ: TypeF16, dims: []uint64{32, 32}, data: bytes.Repeat([]byte{0x00, 0x3c}, 32*32)},
		{name: "blk.0.attn_k.weight", typ: TypeQ4_1, dims: []uint64{32, 16}, data: bytes.Repeat([]byte{0x00, 0x3c, 0x00, 0xbc, 0x5a}, 16*20/5)},
		{name: "blk.0.attn_q.bias", typ: TypeF32, dims: []uint64{32}, data: make([]byte, 128)},
		{name: "output_norm.weight", typ: TypeBF16, dims: []uint64{32}, data: bytes.Repeat([]byte{0x80, 0x3f}, 32)},
	})
}

// FuzzOpen parses arbitrary bytes and, when they parse, exercises every
// accessor and tensor reader. Nothing may panic, and what parses must obey
// the layout invariants.
func FuzzOpen(f *testing.F) {
	f.Add(validTestFile())
	f.Add(fuzzLlamaFile())
	f.Add(buildGGUF(2, []testKV{{"k", testArr{ValueArray, []any{testArr{ValueString, []any{"a"}}}}}}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		gf, err := NewFile(bytes.NewReader(data), int64(len(data)), "fuzz.gguf")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if gf.DataOffset%int64(gf.Alignment) != 0 || gf.DataOffset > int64(len(data))+int64(gf.Alignment) {
			t.Fatalf("data offset %d, alignment %d, size %d", gf.DataOffset, gf.Alignment, len(data))
		}
		for _, kv := range gf.KVs {
			_ = kv.Value.Len()
			_ = kv.Value.TypeName()
			_, _ = gf.String(kv.Key)
			_, _ = gf.Uint(kv.Key)
			_, _ = gf.Int(kv.Key)
			_, _ = gf.Float(kv.Key)
			_, _ = gf.Bool(kv.Key)
			_, _ = gf.Strings(kv.Key)
			_, _ = gf.Int32s(kv.Key)
			_, _ = gf.Float32s(kv.Key)
		}
		for i := range gf.Tensors {
			ti := &gf.Tensors[i]
			if ti.FileOffset < gf.DataOffset || ti.FileOffset+ti.NumBytes() > int64(len(data)) {
				t.Fatalf("tensor %q at %d+%d outside file of %d", ti.Name, ti.FileOffset, ti.NumBytes(), len(data))
			}
			_ = ti.Shape()
			raw, err := gf.ReadRaw(ti.Name)
			if err != nil || int64(len(raw)) != ti.NumBytes() {
				t.Fatalf("ReadRaw %q: %v", ti.Name, err)
			}
			x, err := gf.Float32(ti.Name)
			if ti.Type.CanDequantize() && (err != nil || int64(len(x)) != ti.NumElements()) {
				t.Fatalf("Float32 %q: %v", ti.Name, err)
			}
		}
		_, _ = gf.LlamaParams()
		mapped, _, err := gf.HFTensors()
		if err == nil {
			for _, ht := range mapped {
				_, _ = gf.ReadHFFloat32(ht)
				_, _ = gf.ReadHFRaw(ht)
			}
		}
	})
}

// FuzzDequantize decodes arbitrary blocks of every supported type.
func FuzzDequantize(f *testing.F) {
	f.Add(uint8(TypeQ4_K), bytes.Repeat([]byte{0x5a, 0x3c, 0xff, 0x01}, 72))
	f.Add(uint8(TypeQ5_0), bytes.Repeat([]byte{0x00, 0x3c, 0x81}, 22))
	f.Add(uint8(TypeQ3_K), bytes.Repeat([]byte{0x7b, 0x03}, 110))
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		gt := GGMLType(typ % 40)
		if !gt.CanDequantize() {
			if err := Dequantize(gt, data, nil); err == nil {
				t.Fatalf("%s: no error for an unsupported type", gt)
			}
			return
		}
		ts, bs := gt.TypeSize(), gt.BlockSize()
		whole := data[:len(data)/ts*ts]
		dst := make([]float32, len(whole)/ts*bs)
		if err := Dequantize(gt, whole, dst); err != nil {
			t.Fatalf("%s: %v", gt, err)
		}
		if len(whole) != len(data) {
			if err := Dequantize(gt, data, make([]float32, len(dst)+bs)); err == nil {
				t.Fatalf("%s: no error for a partial block", gt)
			}
		}
		if len(dst) > 0 {
			if err := Dequantize(gt, whole, dst[1:]); err == nil {
				t.Fatalf("%s: no error for a short destination", gt)
			}
		}
	})
}

// TestFuzzSeeds checks that the hand-built fuzz seeds are valid files, so
// the fuzzer starts from inputs that reach the deep code paths.
func TestFuzzSeeds(t *testing.T) {
	gf := mustParse(t, fuzzLlamaFile())
	p, err := gf.LlamaParams()
	if err != nil {
		t.Fatal(err)
	}
	if p.HeadCountKV != 1 || p.VocabSize != 3 || p.Tokenizer.BOS != 1 || p.RopeScaling.Factor != 2 {
		t.Fatalf("unexpected params %+v", p)
	}
	mapped, unmapped, err := gf.HFTensors()
	if err != nil || len(mapped) != 5 || len(unmapped) != 0 {
		t.Fatalf("HFTensors: %d mapped, %v unmapped, %v", len(mapped), unmapped, err)
	}
	for _, ht := range mapped {
		if _, err := gf.ReadHFFloat32(ht); err != nil {
			t.Fatal(err)
		}
		if _, err := gf.ReadHFRaw(ht); err != nil {
			t.Fatal(err)
		}
	}
}
