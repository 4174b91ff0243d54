package train_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/loraplus-go/loraplus/loraplus"
	"github.com/loraplus-go/loraplus/loraplus/train"
	"github.com/loraplus-go/loraplus/nn"
)

// regression is a task of a program's own: fit y = W·x with a LoRA adapter on a frozen linear layer. A task
// supplies its number of examples and the loss of a batch; the session does the rest.
type regression struct {
	Proj *nn.Linear `name:"proj"` // the model: the field's name tag is the layer's checkpoint name
	x, y *ts.Tensor // [N, 16] inputs and targets
}

func (r *regression) Len() int { return int(r.x.MustSize()[0]) }

// Backward back-propagates b.Scale times the mean squared error of the examples b.Indices.
func (r *regression) Backward(b train.Batch) (train.Loss, error) {
	idx := make([]int64, len(b.Indices))
	for i, v := range b.Indices {
		idx[i] = int64(v)
	}
	it := ts.MustOfSlice(idx)
	x, y := r.x.MustIndexSelect(0, it, false), r.y.MustIndexSelect(0, it, false)
	it.MustDrop()
	loss := r.Proj.ForwardT(x, true).MustMseLoss(y, ts.ReductionMean, true)
	x.MustDrop()
	y.MustDrop()
	v := loss.Float64Values()[0]
	loss = loss.MustMulScalar(ts.FloatScalar(b.Scale), true)
	loss.MustBackward()
	loss.MustDrop()
	return train.Loss{Value: v}, nil
}

// A gotch program trains LoRA+ adapters on its own task: wrap the model, describe the task, run a session.
func Example() {
	runtime.LockOSThread() // libtorch's grad mode is per OS thread
	rng := rand.New(rand.NewPCG(1, 2))
	w := nn.Normal(rng, []int64{16, 16}, 0, 0.5, gotch.CPU)
	x := nn.Normal(rng, []int64{256, 16}, 0, 1, gotch.CPU)
	task := &regression{
		Proj: nn.NewLinear(nn.Normal(rng, []int64{16, 16}, 0, 0.1, gotch.CPU), nn.Zeros([]int64{16}, gotch.CPU)),
		x:    x, y: x.MustMatmul(w.MustT(true), false),
	}

	lora := loraplus.DefaultConfig("proj") // rank 8, alpha 8 on the layer named "proj"
	lm, err := loraplus.Wrap(task, lora)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := os.MkdirTemp("", "loraplus-example-")
	defer os.RemoveAll(out)
	var first, last float64
	s, err := train.New(lm, task, train.Config{
		Optim:    loraplus.DefaultOptimConfig(1e-2), // lr_A 1e-2, lr_B = 16 · lr_A
		Schedule: "linear", BatchSize: 32, Epochs: 8, Seed: 42, Out: out, Name: "regression",
		Log: io.Discard, // the progress bar
		OnStep: func(step int, loss float64) {
			if step == 1 {
				first = loss
			}
			last = loss
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := s.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps, loss fell: %v\n", res.Step, last < first/2)
	fmt.Println("checkpoint:", filepath.Base(res.Checkpoint))
	// Output:
	// 64 steps, loss fell: true
	// checkpoint: checkpoint-64
}
