package gguf

// Sanity limits applied while parsing, so that a corrupt or hostile file
// cannot make the reader allocate unbounded memory. Every length and count is
// also checked against the bytes left in the file before anything is
// allocated.
const (
	// MaxStringLen bounds one metadata string or tensor name, in bytes.
	MaxStringLen = 64 << 20
	// MaxArrayLen bounds the element count of one metadata array.
	MaxArrayLen = 64 << 20
	// MaxArrayDepth bounds the nesting of arrays of arrays.
	MaxArrayDepth = 8
	// MaxKVs bounds the number of metadata entries.
	MaxKVs = 1 << 20
	// MaxTensors bounds the number of tensors.
	MaxTensors = 1 << 20
	// MaxDims is the largest tensor rank ggml supports (GGML_MAX_DIMS).
	MaxDims = 4
	// DefaultAlignment is the data alignment used when general.alignment is
	// absent.
	DefaultAlignment = 32
)
