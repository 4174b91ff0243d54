package gguf

import "fmt"

// llama.cpp's converter (LlamaModel.permute in convert_hf_to_gguf.py) stores
// q_proj and k_proj rows in the interleaved rotary layout ggml's RoPE
// expects:
//
//	w.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2).reshape(rows, cols)
//
// with heads = head_count for q_proj and head_count_kv for k_proj (and the
// same for their biases). Writing D = rows/heads, Hugging Face row
// h*D + s*D/2 + i (head h, half s in {0, 1}, i < D/2) becomes GGUF row
// h*D + 2*i + s: the two halves of each head, which HF's rotate_half pairs
// up, are interleaved row by row.

// PermuteRows applies the converter's permutation to a row-major matrix of
// len(src)/rows values per row and returns a new slice: HF layout in, GGUF
// layout out. rows must be a multiple of 2*heads.
func PermuteRows[T any](src []T, rows, heads int) ([]T, error) {
	return permuteRows(src, rows, heads, false)
}

// UnpermuteRows inverts PermuteRows: GGUF layout in, Hugging Face layout
// out. It works on any element type, including raw bytes of quantized rows
// (rows of whole blocks), since it only moves whole rows.
func UnpermuteRows[T any](src []T, rows, heads int) ([]T, error) {
	return permuteRows(src, rows, heads, true)
}

func permuteRows[T any](src []T, rows, heads int, inverse bool) ([]T, error) {
	if rows <= 0 || heads <= 0 || rows%(2*heads) != 0 {
		return nil, fmt.Errorf("gguf: cannot permute %d rows for %d heads: rows must be a positive multiple of 2*heads", rows, heads)
	}
	if len(src)%rows != 0 {
		return nil, fmt.Errorf("gguf: cannot permute %d values as %d rows", len(src), rows)
	}
	if len(src) == 0 {
		return []T{}, nil
	}
	cols := len(src) / rows
	d := rows / heads
	out := make([]T, len(src))
	for h := range heads {
		for s := range 2 {
			for i := range d / 2 {
				hf := h*d + s*(d/2) + i
				gg := h*d + 2*i + s
				from, to := gg, hf
				if !inverse {
					from, to = hf, gg
				}
				copy(out[to*cols:(to+1)*cols], src[from*cols:(from+1)*cols])
			}
		}
	}
	return out, nil
}
