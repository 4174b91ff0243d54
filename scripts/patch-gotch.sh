#!/usr/bin/env bash
# Minimal fixes to gotch v0.9.1's hand-written Go, applied by setup.sh to the copy in .gotch, never to the module
# cache. (The generated bindings' leaks — an output slot C.malloc(0)'d and never freed by every op, and the old
# handle dropped without delete by every in-place op — are fixed in the generator, scripts/gotchgen.)
set -euo pipefail
dir=${1:?usage: patch-gotch.sh GOTCH_COPY_DIR}

# 1. libtch.AtGradSetEnabled reads the 4-byte C int result through an 8-byte Go int, so the previous grad mode it
#    returns is garbage and ts.GradSetEnabled reports "was disabled" at random. Fix: convert the value.
lib="$dir/libtch/tensor.go"
grep -q 'cretVal := C.at_grad_set_enabled(cbool)' "$lib" || { echo "patch-gotch: AtGradSetEnabled not found" >&2; exit 1; }
sed -i '/cretVal := C.at_grad_set_enabled(cbool)/{n;s|return \*(\*int)(unsafe.Pointer(&cretVal))|return int(cretVal)|}' "$lib"
grep -q 'return int(cretVal)' "$lib" || { echo "patch-gotch: AtGradSetEnabled patch failed" >&2; exit 1; }

# 2. Tensor.Float64Values converts to float64 into a temporary tensor and never drops it (the drop is commented
#    out upstream), so every call leaves a tensor to the finalizer. Fix: drop it.
t="$dir/ts/tensor.go"
grep -q '^	// float64Ts.MustDrop()$' "$t" || { echo "patch-gotch: Float64Values drop not found" >&2; exit 1; }
sed -i 's|^	// float64Ts.MustDrop()$|	float64Ts.MustDrop()|' "$t"

# 3. Every tensor wrapper carries a 100 KB Go allocation (bigStruct) whose only purpose is to make the Go GC run,
#    and so finalizers free C tensors, more often. It costs a zeroed 100 KB allocation per op and 100 KB of
#    resident Go heap per live tensor (≈200 MB for SmolLM2 with its adapters and optimizer state), plus GC work.
#    This project frees its tensors deterministically (tests count the live tensors across steps), so the wrapper
#    no longer allocates it; tensors left to the finalizer are still freed, at the next Go GC.
grep -q '^	x.d = new(bigStruct)$' "$t" || { echo "patch-gotch: bigStruct allocation not found" >&2; exit 1; }
sed -i 's|^	x.d = new(bigStruct)$|	// x.d (bigStruct, a 100 KB GC ballast) is not allocated: see scripts/patch-gotch.sh|' "$t"
echo "patch-gotch: Float64Values drops its temporary; no 100 KB GC ballast per tensor" >&2

# 4. The list-returning ops written by hand in ts/patch.go (Split, SplitWithSizes, Chunk, Unbind, ...) take the
#    tensor handles out of a C array that atg_* mallocs, and never free the array (8·(n+1) bytes per call; GPT-2's
#    attention calls Split once per layer and step). Fix: free it when the function returns.
p="$dir/ts/patch.go"
n_list=$(grep -c '^	ctensorsPtr := lib\.Atg' "$p")
[ "$n_list" -ge 9 ] || { echo "patch-gotch: expected the list-returning ops in $p, found $n_list" >&2; exit 1; }
sed -i -E 's|^(	ctensorsPtr := lib\.Atg.*)$|\1\n	defer C.free(unsafe.Pointer(ctensorsPtr))|' "$p"
echo "patch-gotch: $n_list list-returning ops free their C array" >&2

# 5. gotch cannot set a tensor's gradient to None, as torch's zero_grad does by default since torch 2.0
#    (set_to_none=True): zeroing instead keeps a tensor that stops receiving gradients in the optimizer, which then
#    decays it and moves it along its old moments, where torch skips it. Adds at_grad_reset (the C API) and
#    Tensor.ResetGrad (ts), which drop the gradient: t.grad = None.
h="$dir/libtch/torch_api.h"
c="$dir/libtch/torch_api.cpp"
grep -q '^int at_requires_grad(tensor);$' "$h" || { echo "patch-gotch: at_requires_grad not found in $h" >&2; exit 1; }
sed -i 's|^int at_requires_grad(tensor);$|int at_requires_grad(tensor);\nvoid at_grad_reset(tensor);|' "$h"
cat >>"$c" <<'EOF'

void at_grad_reset(tensor t) {
  PROTECT(t->mutable_grad().reset();)
}
EOF
cat >"$dir/libtch/grad_reset.go" <<'EOF'
package libtch

//#include "stddef.h"
//#include "stdbool.h"
//#include "torch_api.h"
import "C"

// AtGradReset drops the gradient of a tensor (t.grad = None in PyTorch). Added by scripts/patch-gotch.sh.
func AtGradReset(ts Ctensor) { C.at_grad_reset(ts) }
EOF
cat >"$dir/ts/grad_reset.go" <<'EOF'
package ts

import lib "github.com/sugarme/gotch/libtch"

// ResetGrad drops the tensor's gradient, as t.grad = None does in PyTorch: the next backward pass allocates a
// new one, and until then the gradient is undefined. Added by scripts/patch-gotch.sh.
func (ts *Tensor) ResetGrad() error {
	lib.AtGradReset(ts.ctensor)
	return TorchErr()
}
EOF
echo "patch-gotch: at_grad_reset and Tensor.ResetGrad (gradients set to None)" >&2
