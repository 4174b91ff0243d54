package gguf

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pyDump is the JSON written by scripts/reference/gguf_dump.py.
type pyDump struct {
	Version    json.Number `json:"version"`
	Alignment  json.Number `json:"alignment"`
	DataOffset json.Number `json:"data_offset"`
	KVs        []struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"kvs"`
	Tensors []struct {
		Name       string        `json:"name"`
		Type       json.Number   `json:"type"`
		Dims       []json.Number `json:"dims"`
		FileOffset json.Number   `json:"file_offset"`
		NBytes     json.Number   `json:"n_bytes"`
		NElements  json.Number   `json:"n_elements"`
	} `json:"tensors"`
}

// num formats an integer the way json.Decoder.UseNumber reads it.
func num[T ~int | ~int64 | ~uint32 | ~uint64](x T) json.Number {
	if x < 0 {
		return json.Number(strconv.FormatInt(int64(x), 10))
	}
	return json.Number(strconv.FormatUint(uint64(x), 10))
}

// canonScalar converts one decoded scalar to gguf_dump.py's encoding.
func canonScalar(x any) any {
	switch v := x.(type) {
	case uint8:
		return num(uint64(v))
	case int8:
		return num(int64(v))
	case uint16:
		return num(uint64(v))
	case int16:
		return num(int64(v))
	case uint32:
		return num(uint64(v))
	case int32:
		return num(int64(v))
	case uint64:
		return num(v)
	case int64:
		return num(v)
	case float32:
		return num(uint64(f32bits(v)))
	case float64:
		return num(f64bits(v))
	case bool:
		return v
	case string:
		if utf8.ValidString(v) {
			return v
		}
		return map[string]any{"b64": base64.StdEncoding.EncodeToString([]byte(v))}
	}
	return x
}

// canon converts a Value to gguf_dump.py's JSON encoding.
func canon(v Value) any {
	if v.Type != ValueArray {
		return canonScalar(v.Data)
	}
	items := []any{}
	switch d := v.Data.(type) {
	case []Value:
		for _, e := range d {
			items = append(items, canon(e))
		}
	case []uint8:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []int8:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []uint16:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []int16:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []uint32:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []int32:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []float32:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []bool:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []string:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []uint64:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []int64:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	case []float64:
		for _, e := range d {
			items = append(items, canonScalar(e))
		}
	}
	return map[string]any{"elem": v.ElemType.String(), "items": items}
}

// requireMatchesDump checks header, every metadata entry and every tensor
// description of f against gguf-py's reading of the same file.
func requireMatchesDump(t *testing.T, f *File, dumpPath string) {
	t.Helper()
	var d pyDump
	readJSON(t, dumpPath, &d)
	require.Equal(t, d.Version, num(f.Version))
	require.Equal(t, d.Alignment, num(f.Alignment))
	require.Equal(t, d.DataOffset, num(f.DataOffset))
	require.Len(t, f.KVs, len(d.KVs))
	for i, want := range d.KVs {
		got := f.KVs[i]
		require.Equal(t, want.Key, got.Key, "entry %d", i)
		require.Equal(t, want.Type, got.Value.Type.String(), want.Key)
		require.Equal(t, want.Value, canon(got.Value), want.Key)
	}
	require.Len(t, f.Tensors, len(d.Tensors))
	for i, want := range d.Tensors {
		got := f.Tensors[i]
		require.Equal(t, want.Name, got.Name)
		require.Equal(t, want.Type, num(uint32(got.Type)), got.Name)
		dims := make([]json.Number, len(got.Dims))
		for j, x := range got.Dims {
			dims[j] = num(x)
		}
		require.Equal(t, want.Dims, dims, got.Name)
		require.Equal(t, want.FileOffset, num(got.FileOffset), got.Name)
		require.Equal(t, want.NBytes, num(got.NumBytes()), got.Name)
		require.Equal(t, want.NElements, num(got.NumElements()), got.Name)
	}
}

func TestMetadataMatchesGGUFPy(t *testing.T) {
	dir := fixtureDir(t)
	f, err := Open(filepath.Join(dir, "meta.gguf"))
	require.NoError(t, err)
	defer f.Close()
	requireMatchesDump(t, f, filepath.Join(dir, "meta.json"))
	assert.EqualValues(t, 64, f.Alignment)
	for _, ti := range f.Tensors {
		assert.Zero(t, ti.FileOffset%64, ti.Name)
	}
}

func TestTypedAccessors(t *testing.T) {
	f, err := Open(filepath.Join(fixtureDir(t), "meta.gguf"))
	require.NoError(t, err)
	defer f.Close()

	call := func(kind, key string) (any, error) {
		switch kind {
		case "String":
			return f.String(key)
		case "Uint":
			return f.Uint(key)
		case "Int":
			return f.Int(key)
		case "Float":
			return f.Float(key)
		case "Bool":
			return f.Bool(key)
		case "Strings":
			return f.Strings(key)
		case "Int32s":
			return f.Int32s(key)
		case "Float32s":
			return f.Float32s(key)
		}
		panic(kind)
	}
	for _, tc := range []struct {
		kind, key string
		want      any
		err       string
	}{
		{"String", "fx.str", "h\u00e9llo \u2713", ""},
		{"String", "fx.str_bytes", "\xff\xfe not utf-8", ""},
		{"String", "fx.u32", nil, `metadata key "fx.u32" is uint32, want string`},
		{"String", "fx.missing", nil, `metadata key "fx.missing": not found`},
		{"Uint", "fx.u8", uint64(200), ""},
		{"Uint", "fx.u16", uint64(65000), ""},
		{"Uint", "fx.u32", uint64(4_000_000_000), ""},
		{"Uint", "fx.u64", uint64(1<<64 - 1), ""},
		{"Uint", "fx.arr.i32", nil, `metadata key "fx.arr.i32" is array[int32], want an unsigned integer`},
		{"Uint", "fx.neg_i32", nil, `metadata key "fx.neg_i32" is int32 -5, want a non-negative integer`},
		{"Uint", "fx.f32", nil, `is float32, want an unsigned integer`},
		{"Int", "fx.i64", int64(-1 << 63), ""},
		{"Int", "fx.i8", int64(-100), ""},
		{"Int", "fx.u64", nil, `"fx.u64" is uint64, want an integer in the int64 range`},
		{"Float", "fx.f32", float64(float32(3.14159)), ""},
		{"Float", "fx.f64", 2.718281828459045, ""},
		{"Float", "fx.str", nil, `"fx.str" is string, want float32 or float64`},
		{"Bool", "fx.bool", true, ""},
		{"Bool", "fx.bool_false", false, ""},
		{"Bool", "fx.u8", nil, `"fx.u8" is uint8, want bool`},
		{"Strings", "fx.arr.str", []string{"a", "", "\u65e5\u672c\u8a9e", "with space"}, ""},
		{"Strings", "fx.arr.nested_str", nil, `"fx.arr.nested_str" is array[array], want array[string]`},
		{"Strings", "fx.str", nil, `"fx.str" is string, want array[string]`},
		{"Int32s", "fx.arr.i32", []int32{1, -2, 3}, ""},
		{"Int32s", "fx.arr.u32_small", []int32{1, 2, 3}, ""},
		{"Int32s", "fx.arr.i16", []int32{-32768, 32767}, ""},
		{"Int32s", "fx.arr.u32", nil, `"fx.arr.u32" is array[uint32], want array of integers in the int32 range`},
		{"Int32s", "fx.arr.f32", nil, `is array[float32], want array of integers`},
		{"Float32s", "fx.arr.f32", []float32{0.5, -1.25, 1e-5}, ""},
		{"Float32s", "fx.arr.f64", []float32{0.1, -2.5}, ""},
		{"Float32s", "fx.arr.i32", nil, `"fx.arr.i32" is array[int32], want array[float32]`},
		{"Int32s", "fx.arr.empty", []int32{}, ""},
	} {
		t.Run(tc.kind+"/"+tc.key, func(t *testing.T) {
			got, err := call(tc.kind, tc.key)
			if tc.err != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.err)
				require.Contains(t, err.Error(), "meta.gguf")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}

	_, err = f.String("fx.missing")
	require.True(t, errors.Is(err, ErrNotFound))
	var te *TypeError
	_, err = f.Bool("fx.u8")
	require.ErrorAs(t, err, &te)
	require.Equal(t, "fx.u8", te.Key)

	v, ok := f.Get("fx.arr.deep")
	require.True(t, ok)
	require.Equal(t, "array[array]", v.TypeName())
	require.Equal(t, 1, v.Len())
	inner := v.Data.([]Value)[0].Data.([]Value)[0]
	require.Equal(t, []uint16{7, 8}, inner.Data)
}
