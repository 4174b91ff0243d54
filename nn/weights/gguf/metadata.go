package gguf

import (
	"fmt"
	"math"
)

// Get returns the metadata value stored under key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// Has reports whether the file has metadata under key.
func (f *File) Has(key string) bool {
	_, ok := f.kvIndex[key]
	return ok
}

// lookup returns the value under key or an error wrapping ErrNotFound.
func (f *File) lookup(key string) (Value, error) {
	v, ok := f.Get(key)
	if !ok {
		return Value{}, fmt.Errorf("gguf: %s: metadata key %q: %w", f.Path, key, ErrNotFound)
	}
	return v, nil
}

func (f *File) typeError(key, want string, v Value) error {
	return &TypeError{Path: f.Path, Key: key, Want: want, Got: v.TypeName()}
}

// String returns the string stored under key.
func (f *File) String(key string) (string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := v.Data.(string)
	if !ok || v.Type != ValueString {
		return "", f.typeError(key, "string", v)
	}
	return s, nil
}

// Bool returns the bool stored under key.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.lookup(key)
	if err != nil {
		return false, err
	}
	b, ok := v.Data.(bool)
	if !ok {
		return false, f.typeError(key, "bool", v)
	}
	return b, nil
}

// asInt64 converts an integer scalar to int64, reporting whether it fits.
func asInt64(v Value) (int64, bool) {
	switch x := v.Data.(type) {
	case uint8:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// Uint returns the unsigned integer stored under key. Any integer type is
// accepted as long as the value is not negative (writers differ in the
// integer width they use for the same key).
func (f *File) Uint(key string) (uint64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	if u, ok := v.Data.(uint64); ok {
		return u, nil
	}
	i, ok := asInt64(v)
	if !ok {
		return 0, f.typeError(key, "an unsigned integer", v)
	}
	if i < 0 {
		return 0, fmt.Errorf("gguf: %s: metadata key %q is %s %d, want a non-negative integer", f.Path, key, v.TypeName(), i)
	}
	return uint64(i), nil
}

// Int returns the integer stored under key, of any integer type that fits
// in int64.
func (f *File) Int(key string) (int64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	i, ok := asInt64(v)
	if !ok {
		return 0, f.typeError(key, "an integer in the int64 range", v)
	}
	return i, nil
}

// Float returns the float32 or float64 stored under key as float64.
func (f *File) Float(key string) (float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch x := v.Data.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, f.typeError(key, "float32 or float64", v)
}

// Strings returns the array of strings stored under key. The slice is
// shared with the File's metadata: do not modify it.
func (f *File) Strings(key string) ([]string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	s, ok := v.Data.([]string)
	if !ok {
		return nil, f.typeError(key, "array[string]", v)
	}
	return s, nil
}

// Int32s returns the integer array stored under key as []int32. Arrays of
// any integer type are accepted when every element fits in int32. An int32
// array is returned without a copy: do not modify it.
func (f *File) Int32s(key string) ([]int32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	if s, ok := v.Data.([]int32); ok {
		return s, nil
	}
	out, ok := intsToInt32(v.Data)
	if !ok {
		return nil, f.typeError(key, "array of integers in the int32 range", v)
	}
	return out, nil
}

// intsToInt32 converts an integer slice to []int32 if every element fits.
func intsToInt32(data any) ([]int32, bool) {
	conv := func(n int, at func(int) int64) ([]int32, bool) {
		out := make([]int32, n)
		for i := range out {
			x := at(i)
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, false
			}
			out[i] = int32(x)
		}
		return out, true
	}
	switch s := data.(type) {
	case []uint8:
		return conv(len(s), func(i int) int64 { return int64(s[i]) })
	case []int8:
		return conv(len(s), func(i int) int64 { return int64(s[i]) })
	case []uint16:
		return conv(len(s), func(i int) int64 { return int64(s[i]) })
	case []int16:
		return conv(len(s), func(i int) int64 { return int64(s[i]) })
	case []uint32:
		return conv(len(s), func(i int) int64 { return int64(s[i]) })
	case []int64:
		return conv(len(s), func(i int) int64 { return s[i] })
	case []uint64:
		return conv(len(s), func(i int) int64 {
			if s[i] > math.MaxInt32 {
				return math.MaxInt64
			}
			return int64(s[i])
		})
	}
	return nil, false
}

// Float32s returns the float array stored under key as []float32 (float64
// arrays are converted). A float32 array is returned without a copy: do not
// modify it.
func (f *File) Float32s(key string) ([]float32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	switch s := v.Data.(type) {
	case []float32:
		return s, nil
	case []float64:
		out := make([]float32, len(s))
		for i, x := range s {
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, f.typeError(key, "array[float32]", v)
}
