// Command mymodel is a gotch project that finetunes its own two-layer model with LoRA+ through
// github.com/loraplus-go/loraplus, set up with scripts/use.sh. scripts/external's test builds and runs it as a
// module outside the repository.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
	"github.com/sugarme/gotch"
	gnn "github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// mlp is the project's own model, written with gotch's nn layers.
type mlp struct {
	fc1, fc2 *gnn.Linear
}

func newMLP(p *gnn.Path) *mlp {
	return &mlp{
		fc1: gnn.NewLinear(p.Sub("fc1"), 16, 64, gnn.DefaultLinearConfig()),
		fc2: gnn.NewLinear(p.Sub("fc2"), 64, 1, gnn.DefaultLinearConfig()),
	}
}

func main() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread
	out := os.Args[1]

	vs := gnn.NewVarStore(gotch.CPU)
	net := newMLP(vs.Root())

	// LoRA+ on both Linear layers: adopt them (frozen) under their names, wrap, build the LoRA+ AdamW.
	fc1, fc2 := nn.FromGotch(net.fc1), nn.FromGotch(net.fc2)
	model := nn.ModuleMap{"fc1": fc1, "fc2": fc2}
	lm, err := loraplus.Wrap(model, loraplus.DefaultConfig("fc1", "fc2"))
	check(err)
	oc := loraplus.DefaultOptimConfig(2e-3) // lr_A = 2e-3, lr_B = 16 · lr_A
	opt, err := lm.NewAdamW(oc)
	check(err)
	// The project's forward pass is gotch's own nn.SequentialT: the adopted layers are gotch modules
	// (ts.Module, ts.ModuleT), so the sequential runs their adapters.
	seq := gnn.SeqT()
	seq.Add(fc1)
	seq.AddFnT(gnn.NewFuncT(func(x *ts.Tensor, _ bool) *ts.Tensor { return x.MustRelu(false) }))
	seq.Add(fc2)
	forward := func(x *ts.Tensor) *ts.Tensor { return seq.ForwardT(x, true) }

	x := ts.MustRandn([]int64{256, 16}, gotch.Float, gotch.CPU)
	y := x.MustSum(gotch.Float, false).MustSin(true).MustExpand([]int64{256, 1}, false, true)
	var first, last float64
	for step := 0; step < 40; step++ {
		opt.ZeroGrad()
		loss := forward(x).MustMseLoss(y, ts.ReductionMean, true)
		loss.MustBackward()
		loraplus.ClipGradNorm(lm.Trainable(), 1.0)
		check(opt.Step(1))
		v := loss.Float64Values(true)[0]
		if step == 0 {
			first = v
		}
		last = v
	}
	fmt.Printf("loss %.4f -> %.4f\n", first, last)

	// Save a PEFT adapter, then load it onto a fresh copy of the model and compare the adapters.
	dir := filepath.Join(out, "adapter")
	check(lm.SaveAdapter(dir, loraplus.AdapterOptions{Optim: &oc}))
	fresh := nn.ModuleMap{"fc1": nn.FromGotch(net.fc1), "fc2": nn.FromGotch(net.fc2)}
	back, err := loraplus.LoadAdapter(fresh, dir)
	check(err)
	same := len(back.Params) == len(lm.Params)
	for i := range lm.Params {
		same = same && back.Params[i].Name == lm.Params[i].Name &&
			back.Params[i].Tensor.MustEqual(lm.Params[i].Tensor, false)
	}
	fmt.Printf("adapter %s: %d tensors, loaded back equal: %v\n", dir, len(back.Params), same)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
