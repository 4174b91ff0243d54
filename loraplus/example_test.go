package loraplus_test

import (
	"fmt"
	"runtime"

	"github.com/sugarme/gotch"
	gnn "github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/nn"
)

// A two-layer regressor built with gotch's own nn package, finetuned with LoRA+.
func Example() {
	runtime.LockOSThread() // libtorch keeps grad mode per OS thread
	defer runtime.UnlockOSThread()

	// An existing gotch model ("pretrained" weights in a VarStore).
	vs := gnn.NewVarStore(gotch.CPU)
	fc1 := gnn.NewLinear(vs.Root().Sub("fc1"), 16, 64, gnn.DefaultLinearConfig())
	fc2 := gnn.NewLinear(vs.Root().Sub("fc2"), 64, 1, gnn.DefaultLinearConfig())

	// Adopt its layers (frozen) under their checkpoint names and attach adapters to fc1.
	model := nn.ModuleMap{"fc1": nn.FromGotch(fc1), "fc2": nn.FromGotch(fc2)}
	lm, err := loraplus.Wrap(model, loraplus.DefaultConfig("fc1"))
	if err != nil {
		panic(err)
	}
	oc := loraplus.DefaultOptimConfig(1e-3) // lr_A = 1e-3, lr_B = 16e-3
	opt, err := lm.NewAdamW(oc)
	if err != nil {
		panic(err)
	}
	plan, _ := lm.Plan(oc)
	fmt.Print(plan)

	x := ts.MustRandn([]int64{128, 16}, gotch.Float, gotch.CPU)
	y := x.MustSum(gotch.Float, false).MustSin(true) // a scalar target, broadcast
	// The model's own forward pass, a gotch nn.SequentialT: the adopted layers are gotch modules (ts.ModuleT), so
	// it runs the adapter.
	seq := gnn.SeqT()
	seq.Add(model["fc1"].(*nn.Linear))
	seq.AddFnT(gnn.NewFuncT(func(h *ts.Tensor, _ bool) *ts.Tensor { return h.MustRelu(false) }))
	seq.Add(model["fc2"].(*nn.Linear))
	forward := func() *ts.Tensor { return seq.ForwardT(x, true) }
	sched := loraplus.Schedule{Kind: "linear", Warmup: 5, Total: 50}
	var first, last float64
	for step := 0; step < 50; step++ {
		opt.ZeroGrad()
		loss := forward().MustMseLoss(y.MustExpand([]int64{128, 1}, false, false), ts.ReductionMean, true)
		loss.MustBackward()
		loraplus.ClipGradNorm(lm.Trainable(), 1.0)
		if err := opt.Step(sched.Factor(step)); err != nil {
			panic(err)
		}
		v := loss.Float64Values(true)[0]
		if step == 0 {
			first = v
		}
		last = v
	}
	fmt.Println("loss went down:", last < first)
	// Output:
	// tensor             kind    group  lr     weight decay  shape
	// fc1.lora_A.weight  lora_A  A      0.001  0             [8 16]
	// fc1.lora_B.weight  lora_B  B      0.016  0             [64 8]
	// group A             1 tensors        128 values  lr 0.001  weight decay 0
	// group B             1 tensors        512 values  lr 0.016  weight decay 0
	// loss went down: true
}
