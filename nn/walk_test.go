package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

type walkMLP struct {
	Up   *nn.Linear `name:"c_fc"`
	Down *nn.Linear `name:"c_proj"`
}

type walkAttn struct {
	QKV *nn.Linear `name:"c_attn"`
}

type walkBlock struct {
	Ln1      *nn.LayerNorm `name:"ln_1"`
	Attn     *walkAttn     `name:"attn"`
	MLP      *walkMLP      `name:"mlp"`
	Gate     *ts.Tensor    `name:"gate"`     // a bare tensor: "h.N.gate"
	Absent   *nn.Linear    `name:"absent"`   // nil: skipped
	NilT     *ts.Tensor    `name:"nil_gate"` // nil tensor: skipped
	Hidden   *nn.Linear    `name:"-"`        // excluded
	Untagged *nn.Linear    // no tag: skipped
	Flat     *walkAttn     `name:"."` // keeps the parent path: "h.N.c_attn"
}

type walkModel struct {
	Wte  *nn.Embedding  `name:"wte"`
	H    []*walkBlock   `name:"h"`
	Arr  [2]*nn.Linear  `name:"heads"`
	Any  nn.Layer       `name:"score"`
	None nn.Layer       `name:"none"`
	LnF  *nn.LayerNorm  `name:"ln_f"`
	Bias *ts.Tensor     `name:"logit_bias"`
	Misc map[string]int // untagged, so never walked
}

func lin() *nn.Linear {
	return nn.NewLinear(ts.MustZeros([]int64{2, 2}, gotch.Float, gotch.CPU), ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU))
}

func linNoBias() *nn.Linear {
	return nn.NewLinear(ts.MustZeros([]int64{2, 2}, gotch.Float, gotch.CPU), nil)
}

func ln() *nn.LayerNorm {
	return nn.NewLayerNorm(ts.MustOnes([]int64{2}, gotch.Float, gotch.CPU), ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU), 1e-5)
}

func block() *walkBlock {
	return &walkBlock{
		Ln1:      ln(),
		Attn:     &walkAttn{QKV: lin()},
		MLP:      &walkMLP{Up: lin(), Down: linNoBias()},
		Gate:     ts.MustOnes([]int64{2}, gotch.Float, gotch.CPU),
		Hidden:   lin(),
		Untagged: lin(),
		Flat:     &walkAttn{QKV: linNoBias()},
	}
}

func TestModulesAndParameters(t *testing.T) {
	m := &walkModel{
		Wte:  nn.NewEmbedding(ts.MustZeros([]int64{5, 2}, gotch.Float, gotch.CPU)),
		H:    []*walkBlock{block(), block()},
		Arr:  [2]*nn.Linear{linNoBias(), nil},
		Any:  lin(),
		LnF:  ln(),
		Bias: ts.MustZeros([]int64{5}, gotch.Float, gotch.CPU),
		Misc: map[string]int{"x": 1},
	}
	mods, err := nn.Modules(m)
	require.NoError(t, err)
	var paths []string
	for _, md := range mods {
		paths = append(paths, md.Path)
	}
	blockPaths := func(i string) []string {
		return []string{"h." + i + ".ln_1", "h." + i + ".attn.c_attn", "h." + i + ".mlp.c_fc", "h." + i + ".mlp.c_proj", "h." + i, "h." + i + ".c_attn"}
	}
	want := append([]string{"wte"}, blockPaths("0")...)
	want = append(want, blockPaths("1")...)
	want = append(want, "heads.0", "score", "ln_f", "")
	assert.Equal(t, want, paths)
	assert.Same(t, m.H[1].MLP.Up, mods[9].Layer)

	params, err := nn.Parameters(m)
	require.NoError(t, err)
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	blockNames := func(i string) []string {
		p := "h." + i + "."
		return []string{p + "ln_1.weight", p + "ln_1.bias", p + "attn.c_attn.weight", p + "attn.c_attn.bias",
			p + "mlp.c_fc.weight", p + "mlp.c_fc.bias", p + "mlp.c_proj.weight", p + "gate", p + "c_attn.weight"}
	}
	wantNames := append([]string{"wte.weight"}, blockNames("0")...)
	wantNames = append(wantNames, blockNames("1")...)
	wantNames = append(wantNames, "heads.0.weight", "score.weight", "score.bias", "ln_f.weight", "ln_f.bias", "logit_bias")
	assert.Equal(t, wantNames, names)
	assert.Same(t, m.H[0].Gate, params[8].Tensor)
	assert.Same(t, m.Bias, params[len(params)-1].Tensor)
}

// Adapters are not parameters: Parameters lists the frozen tensors only.
func TestParametersExcludeAdapters(t *testing.T) {
	m := &walkAttn{QKV: lin()}
	require.NoError(t, m.QKV.AddLoRA(nn.LoRAConfig{Rank: 1, Alpha: 1}, rand.New(rand.NewPCG(1, 1))))
	params, err := nn.Parameters(m)
	require.NoError(t, err)
	require.Len(t, params, 2)
	assert.Equal(t, "c_attn.weight", params[0].Name)
	assert.Equal(t, "c_attn.bias", params[1].Name)
}

type unexportedTagged struct {
	Ok  *nn.Linear `name:"ok"`
	lin *nn.Linear `name:"secret"`
}

type intTagged struct {
	N int `name:"n"`
}

type badInSlice struct {
	H []*intTagged `name:"h"`
}

type valueStruct struct {
	Inner walkAttn `name:"inner"` // a struct value, walked in place
}

func TestModulesEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		model   any
		want    []string // paths
		wantErr []string
	}{
		{"unexported tagged field", &unexportedTagged{Ok: lin(), lin: lin()}, nil, []string{"unexportedTagged.lin", "not exported"}},
		{"unexported tagged nil field", &unexportedTagged{}, nil, []string{"unexportedTagged.lin"}},
		{"tagged int", &intTagged{N: 1}, nil, []string{`"n"`, "int"}},
		{"error path inside a slice", &badInSlice{H: []*intTagged{{}}}, nil, []string{`"h.0.n"`}},
		{"struct value field", &valueStruct{Inner: walkAttn{QKV: lin()}}, []string{"inner.c_attn"}, nil},
		{"struct passed by value", walkAttn{QKV: lin()}, []string{"c_attn"}, nil},
		{"nil model", nil, nil, nil},
		{"nil pointer", (*walkModel)(nil), nil, nil},
		{"empty model", &walkModel{}, nil, nil},
		{"a layer itself", lin(), []string{""}, nil},
		{"slice of layers", []*nn.Linear{lin(), nil, lin()}, []string{"0", "2"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := nn.Modules(tc.model)
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			var paths []string
			for _, m := range mods {
				paths = append(paths, m.Path)
			}
			assert.Equal(t, tc.want, paths)
		})
	}
}

func TestModuleMap(t *testing.T) {
	a, ab, b := lin(), linNoBias(), ln()
	mm := nn.ModuleMap{"layers.1.fc": b, "layers.0.fc": a, "layers.0.fc.inner": ab, "emb": nn.NewEmbedding(ts.MustZeros([]int64{3, 2}, gotch.Float, gotch.CPU))}
	for range 5 { // map iteration order varies; the result must not
		mods, err := nn.Modules(mm)
		require.NoError(t, err)
		var paths []string
		for _, m := range mods {
			paths = append(paths, m.Path)
		}
		require.Equal(t, []string{"emb", "layers.0.fc", "layers.0.fc.inner", "layers.1.fc"}, paths)
		assert.Same(t, a, mods[1].Layer)
	}
	params, err := nn.Parameters(mm)
	require.NoError(t, err)
	var names []string
	for _, p := range params {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"emb.weight", "layers.0.fc.weight", "layers.0.fc.bias", "layers.0.fc.inner.weight", "layers.1.fc.weight", "layers.1.fc.bias"}, names)
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a.b"},
		{[]string{"", "a", "", "b", ""}, "a.b"},
		{[]string{"h", "0", "attn"}, "h.0.attn"},
	} {
		assert.Equal(t, tc.want, nn.Join(tc.parts...), "%q", tc.parts)
	}
}
