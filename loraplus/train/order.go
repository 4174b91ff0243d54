package train

import "math/rand/v2"

// EpochOrder returns the order of n examples for one epoch: a permutation drawn from rng when shuffle is set,
// 0..n-1 otherwise.
func EpochOrder(rng *rand.Rand, n int, shuffle bool) []int {
	if shuffle {
		return rng.Perm(n)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// BatchIndices cuts an order into consecutive batches of size (the last one may be smaller).
func BatchIndices(order []int, size int) [][]int {
	var out [][]int
	for i := 0; i < len(order); i += size {
		out = append(out, order[i:min(i+size, len(order))])
	}
	return out
}

// StepsPerEpoch is the number of batches of size in an epoch of n examples (the last batch is kept).
func StepsPerEpoch(n, size int) int {
	if size <= 0 {
		return 0
	}
	return (n + size - 1) / size
}
