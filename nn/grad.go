package nn

import (
	"runtime"
	"sync"
	"syscall"

	"github.com/sugarme/gotch/ts"
)

// noGradDepth counts nested NoGrad calls per OS thread, the unit libtorch keeps grad mode for.
var noGradDepth sync.Map // thread id → int

// NoGrad runs fn with autograd off, then turns it back on. Calls nest: only the outermost one switches grad mode.
//
// libtorch's grad mode belongs to an OS thread, so NoGrad pins the calling goroutine to its thread while fn runs.
// Grad mode is assumed on outside NoGrad (libtorch's default); the previous state is not read back from
// libtorch because gotch v0.9.1's GradSetEnabled returns it truncated.
func NoGrad(fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	d, _ := noGradDepth.Load(tid)
	depth, _ := d.(int)
	if depth == 0 {
		ts.MustGradSetEnabled(false)
	}
	noGradDepth.Store(tid, depth+1)
	defer func() {
		noGradDepth.Store(tid, depth)
		if depth == 0 {
			ts.MustGradSetEnabled(true)
		}
	}()
	fn()
}
