package nn

import (
	"runtime"

	"github.com/sugarme/gotch/ts"
)

// NoGrad runs fn with autograd off and restores the previous grad mode afterwards.
//
// libtorch's grad mode belongs to an OS thread, so NoGrad pins the calling goroutine to its thread while fn runs.
// Unlike gotch's ts.NoGrad it nests: the previous state is restored, not forced to "on".
func NoGrad(fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev := ts.MustGradSetEnabled(false)
	defer ts.MustGradSetEnabled(prev)
	fn()
}
