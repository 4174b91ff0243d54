package nn_test

import (
	"math"
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoRAConfigValidate(t *testing.T) {
	ok := nn.LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05}
	for _, tc := range []struct {
		name string
		edit func(*nn.LoRAConfig)
		want string // "" for valid
	}{
		{"valid", func(*nn.LoRAConfig) {}, ""},
		{"valid a-zero rslora", func(c *nn.LoRAConfig) { c.Init, c.RSLoRA = nn.InitAZero, true }, ""},
		{"dropout 0", func(c *nn.LoRAConfig) { c.Dropout = 0 }, ""},
		{"dropout just below 1", func(c *nn.LoRAConfig) { c.Dropout = 0.999 }, ""},
		{"rank 1", func(c *nn.LoRAConfig) { c.Rank = 1 }, ""},
		{"tiny alpha", func(c *nn.LoRAConfig) { c.Alpha = 1e-12 }, ""},
		{"rank 0", func(c *nn.LoRAConfig) { c.Rank = 0 }, "rank"},
		{"negative rank", func(c *nn.LoRAConfig) { c.Rank = -4 }, "got -4"},
		{"alpha 0", func(c *nn.LoRAConfig) { c.Alpha = 0 }, "alpha"},
		{"negative alpha", func(c *nn.LoRAConfig) { c.Alpha = -1 }, "alpha"},
		{"NaN alpha", func(c *nn.LoRAConfig) { c.Alpha = math.NaN() }, "NaN"},
		{"infinite alpha", func(c *nn.LoRAConfig) { c.Alpha = math.Inf(1) }, "alpha"},
		{"negative dropout", func(c *nn.LoRAConfig) { c.Dropout = -0.1 }, "dropout"},
		{"dropout 1", func(c *nn.LoRAConfig) { c.Dropout = 1 }, "dropout"},
		{"dropout above 1", func(c *nn.LoRAConfig) { c.Dropout = 1.5 }, "dropout"},
		{"NaN dropout", func(c *nn.LoRAConfig) { c.Dropout = math.NaN() }, "dropout"},
		{"unknown init", func(c *nn.LoRAConfig) { c.Init = nn.LoRAInit(7) }, "LoRAInit(7)"},
		{"negative init", func(c *nn.LoRAConfig) { c.Init = nn.LoRAInit(-1) }, "init"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestLoRAConfigScale(t *testing.T) {
	for _, tc := range []struct {
		rank   int
		alpha  float64
		rslora bool
		want   float64
	}{
		{8, 16, false, 2},
		{8, 8, false, 1},
		{16, 8, false, 0.5},
		{1, 3, false, 3},
		{4, 16, true, 8},
		{16, 8, true, 2},
		{1, 3, true, 3},
		{8, 16, true, 16 / math.Sqrt(8)},
	} {
		c := nn.LoRAConfig{Rank: tc.rank, Alpha: tc.alpha, RSLoRA: tc.rslora}
		assert.InDelta(t, tc.want, c.Scale(), 1e-12, "%+v", c)
	}
}

func TestParseLoRAInit(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    nn.LoRAInit
		wantErr bool
	}{
		{"b-zero", nn.InitBZero, false},
		{"", nn.InitBZero, false},
		{"a-zero", nn.InitAZero, false},
		{"B-zero", 0, true},
		{"gaussian", 0, true},
		{" a-zero", 0, true},
	} {
		got, err := nn.ParseLoRAInit(tc.in)
		if tc.wantErr {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), `"`+tc.in+`"`)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
	for _, i := range []nn.LoRAInit{nn.InitBZero, nn.InitAZero} { // String and Parse are inverse
		got, err := nn.ParseLoRAInit(i.String())
		require.NoError(t, err)
		assert.Equal(t, i, got)
	}
	assert.Equal(t, "LoRAInit(5)", nn.LoRAInit(5).String())
}
