#!/usr/bin/env bash
# Minimal fixes to gotch v0.9.1's bindings, applied by setup.sh to
# the copy in .gotch, never to the module cache. Fixes 1 and 2 (ts/tensor-generated.go) are leaks that grow with every step;
# fixes 4 and 5 (ts/tensor.go, further down) free a leaked temporary and drop the per-tensor GC ballast.
#
#  1. Every op allocates its output slot with C.malloc(0) and never frees it (upstream issue #115), about 32 bytes
#     per op call; ops with more than 3 outputs also write past the end of that block. Fix: allocate 8 slots
#     (the largest op has 7 outputs) and free them when the function returns.
#  2. Every in-place op (add_, mul_, ...) replaces the receiver's torch::Tensor handle with a new one and drops the
#     old handle without deleting it. That handle holds a reference to the TensorImpl, so a tensor that ever saw an
#     in-place op is never freed. Fix: delete the old handle (lib.AtFree) before taking the new one.
set -euo pipefail
dir=${1:?usage: patch-gotch.sh GOTCH_COPY_DIR}
f="$dir/ts/tensor-generated.go"
n_malloc=$(grep -c 'unsafe.Pointer(C.malloc(0)))' "$f")
n_inplace=$(grep -c '^  ts.ctensor = \*ptr$' "$f")
sed -i -E \
	-e 's|^  ([A-Za-z0-9]+) := \(\*lib\.Ctensor\)\(unsafe\.Pointer\(C\.malloc\(0\)\)\)$|  \1 := (*lib.Ctensor)(C.malloc(64))\n  defer C.free(unsafe.Pointer(\1))|' \
	-e 's|^  ts\.ctensor = \*ptr$|  lib.AtFree(ts.ctensor)\n  ts.ctensor = *ptr|' \
	"$f"
left=$(grep -c 'C.malloc(0)' "$f" || true)
[ "$left" = 0 ] || { echo "patch-gotch: $left malloc(0) sites left in $f" >&2; exit 1; }
echo "patch-gotch: fixed $n_malloc output allocations and $n_inplace in-place handle leaks" >&2

# 3. libtch.AtGradSetEnabled reads the 4-byte C int result through an 8-byte Go int, so the previous grad mode it
#    returns is garbage and ts.GradSetEnabled reports "was disabled" at random. Fix: convert the value.
lib="$dir/libtch/tensor.go"
grep -q 'cretVal := C.at_grad_set_enabled(cbool)' "$lib" || { echo "patch-gotch: AtGradSetEnabled not found" >&2; exit 1; }
sed -i '/cretVal := C.at_grad_set_enabled(cbool)/{n;s|return \*(\*int)(unsafe.Pointer(&cretVal))|return int(cretVal)|}' "$lib"
grep -q 'return int(cretVal)' "$lib" || { echo "patch-gotch: AtGradSetEnabled patch failed" >&2; exit 1; }

# 4. Tensor.Float64Values converts to float64 into a temporary tensor and never drops it (the drop is commented
#    out upstream), so every call leaves a tensor to the finalizer. Fix: drop it.
t="$dir/ts/tensor.go"
grep -q '^	// float64Ts.MustDrop()$' "$t" || { echo "patch-gotch: Float64Values drop not found" >&2; exit 1; }
sed -i 's|^	// float64Ts.MustDrop()$|	float64Ts.MustDrop()|' "$t"

# 5. Every tensor wrapper carries a 100 KB Go allocation (bigStruct) whose only purpose is to make the Go GC run,
#    and so finalizers free C tensors, more often. It costs a zeroed 100 KB allocation per op and 100 KB of
#    resident Go heap per live tensor (≈200 MB for SmolLM2 with its adapters and optimizer state), plus GC work.
#    This project frees its tensors deterministically (tests count the live tensors across steps), so the wrapper
#    no longer allocates it; tensors left to the finalizer are still freed, at the next Go GC.
grep -q '^	x.d = new(bigStruct)$' "$t" || { echo "patch-gotch: bigStruct allocation not found" >&2; exit 1; }
sed -i 's|^	x.d = new(bigStruct)$|	// x.d (bigStruct, a 100 KB GC ballast) is not allocated: see scripts/patch-gotch.sh|' "$t"
echo "patch-gotch: Float64Values drops its temporary; no 100 KB GC ballast per tensor" >&2
