package nn_test

import (
	"testing"

	"github.com/loraplus-go/loraplus/nn"
	"github.com/loraplus-go/loraplus/nn/internal/nntest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	gnn "github.com/sugarme/gotch/nn"
)

func TestFromGotch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out int64
		bias    bool
	}{
		{"with bias", 5, 3, true},
		{"without bias", 4, 6, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := gnn.NewVarStore(gotch.CPU)
			cfg := gnn.DefaultLinearConfig()
			cfg.Bias = tc.bias
			g := gnn.NewLinear(vs.Root(), tc.in, tc.out, cfg)
			rng := nntest.NewRNG(30)
			x := nntest.F32([]int64{2, 3, tc.in}, nntest.RandF32(rng, int(6*tc.in)))
			want := nntest.Values(g.Forward(x))

			l := nn.FromGotch(g)
			in, out := l.Dims()
			assert.Equal(t, [2]int64{tc.in, tc.out}, [2]int64{in, out})
			assert.Equal(t, []int64{tc.out, tc.in}, l.Weight.MustSize(), "PyTorch layout [out, in]")
			assert.Equal(t, tc.bias, l.Bias != nil)
			assert.False(t, l.Weight.MustRequiresGrad(), "frozen alias")
			y := l.ForwardT(x, false)
			assert.Equal(t, []int64{2, 3, tc.out}, y.MustSize())
			nntest.RequireClose(t, want, nntest.Values(y), 1e-6)

			// A fresh adapter leaves the output alone; merging it writes through to the shared gotch storage.
			require.NoError(t, l.AddLoRA(nn.LoRAConfig{Rank: 2, Alpha: 2}, rng))
			nntest.RequireClose(t, want, nntest.Values(l.ForwardT(x, false)), 1e-6)
			setRandomAdapter(rng, l.LoRA)
			adapted := nntest.Values(l.ForwardT(x, false))
			require.NoError(t, l.Merge())
			nntest.RequireClose(t, adapted, nntest.Values(g.Forward(x)), 1e-5, "gotch layer sees the merged weight")
			require.NoError(t, l.Unmerge())
			nntest.RequireClose(t, want, nntest.Values(g.Forward(x)), 1e-5)
		})
	}
}
