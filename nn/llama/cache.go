package llama

import (
	"fmt"

	"github.com/sugarme/gotch/ts"
)

// Cache holds the keys and values (after the rotary embedding) that every layer has computed for the positions
// seen so far, so that each new token attends to them without running them again: transformers' DynamicCache,
// the past_key_values of generate. Each layer keeps [B, kvHeads, capacity, D] buffers of the model's dtype on its
// device; the capacity doubles when a step outgrows it, so a generation of n tokens copies O(n) positions in all
// rather than O(n²) as concatenating at each step would.
//
// A cache belongs to one model and one batch of equal-length sequences; it is not safe for concurrent use.
// Drop releases its buffers.
type Cache struct {
	k, v []*ts.Tensor // per layer [B, kvHeads, capacity, D]; nil until the first step
	n    int64        // positions held
	b    int64        // batch size, fixed by the first step
}

// NewCache returns an empty cache for m.
func (m *Model) NewCache() *Cache {
	return &Cache{k: make([]*ts.Tensor, len(m.Layers)), v: make([]*ts.Tensor, len(m.Layers))}
}

// Len returns the number of positions the cache holds.
func (c *Cache) Len() int { return int(c.n) }

// Drop releases the cache's buffers; the cache is empty afterwards.
func (c *Cache) Drop() {
	for i := range c.k {
		for _, t := range []**ts.Tensor{&c.k[i], &c.v[i]} {
			if *t != nil {
				(*t).MustDrop()
				*t = nil
			}
		}
	}
	c.n, c.b = 0, 0
}

// check reports whether a step of ids [B, T] can continue the cached sequences.
func (c *Cache) check(m *Model, ids *ts.Tensor) error {
	if len(c.k) != len(m.Layers) {
		return fmt.Errorf("llama: the cache has %d layers, the model %d: it belongs to another model", len(c.k), len(m.Layers))
	}
	s := ids.MustSize()
	if len(s) != 2 || s[1] < 1 {
		return fmt.Errorf("llama: cached step: ids have shape %v, want [B, T] with T ≥ 1", s)
	}
	if c.n > 0 && s[0] != c.b {
		return fmt.Errorf("llama: cached step: batch of %d sequences, the cache holds %d", s[0], c.b)
	}
	return nil
}

// store appends the new keys and values k, v [B, kvHeads, T, D] of layer i at positions c.n…c.n+T−1 and returns
// views of all the layer's keys and values, [B, kvHeads, c.n+T, D]; the caller drops the views (not k and v).
func (c *Cache) store(i int, k, v *ts.Tensor) (keys, values *ts.Tensor) {
	s := k.MustSize()
	t := s[2]
	if c.k[i] == nil || c.k[i].MustSize()[2] < c.n+t {
		capacity := max(2*c.n, c.n+t, 32)
		for _, buf := range []**ts.Tensor{&c.k[i], &c.v[i]} {
			grown := ts.MustZeros([]int64{s[0], s[1], capacity, s[3]}, k.DType(), k.MustDevice())
			if *buf != nil {
				dst := grown.MustNarrow(2, 0, c.n, false)
				src := (*buf).MustNarrow(2, 0, c.n, false)
				dst.Copy_(src)
				dst.MustDrop()
				src.MustDrop()
				(*buf).MustDrop()
			}
			*buf = grown
		}
	}
	for _, p := range [][2]*ts.Tensor{{c.k[i], k}, {c.v[i], v}} {
		dst := p[0].MustNarrow(2, c.n, t, false)
		dst.Copy_(p[1])
		dst.MustDrop()
	}
	return c.k[i].MustNarrow(2, 0, c.n+t, false), c.v[i].MustNarrow(2, 0, c.n+t, false)
}
