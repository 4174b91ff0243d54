#!/usr/bin/env bash
# Minimal fixes to gotch v0.9.1's bindings, applied by setup.sh to
# the copy in .gotch, never to the module cache. Fixes 1 and 2 (ts/tensor-generated.go) are leaks that grow with every step.
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
