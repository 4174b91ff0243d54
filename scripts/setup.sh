#!/usr/bin/env bash
# Idempotent set-up for a fresh machine; `make` runs it before every target that needs it.
#
#  1. .venv: the Python reference stack pinned in scripts/requirements.txt. Its torch==2.11.0 wheel also provides
#     libtorch 2.11.0 (headers in torch/include, libraries in torch/lib, C++11 ABI) and torchgen.
#  2. .gotch: a copy of github.com/sugarme/gotch@v0.9.1 from the module cache with its generated bindings replaced
#     by ones generated for that libtorch: torchgen writes PyTorch's Declarations.yaml
#     (scripts/gotchgen/declarations.py) and scripts/gotchgen turns it into gotch's C, cgo and Go layers; then
#       - libtch/lib.go for that libtorch (include paths, the wheel's C++ ABI, --no-as-needed, an rpath so binaries
#         run without LD_LIBRARY_PATH; libtorch_cpu and libc10 only, or also the CUDA libraries for a GPU build);
#       - scripts/patch-gotch.sh's fixes to gotch's hand-written Go.
#  3. go.work: uses the module and replaces gotch with .gotch, so plain `go build/test/run` work afterwards.
#  4. Test assets that registries ship (tokenizer files), when their fetch script exists.
# All outputs are git-ignored. Nothing in the Go module cache is modified.
#
# Environment:
#   LIBTORCH=DIR       build against another libtorch 2.11 (DIR holds include/ and lib/: an unpacked libtorch
#                      archive or a torch package directory, e.g. a CUDA build); default: the .venv's torch.
#   LORAPLUS_CUDA=1|0  link the CUDA libraries (libtorch_cuda, libc10_cuda) or not. Default: 1 when the libtorch
#                      has them and an NVIDIA driver is visible (/proc/driver/nvidia), else 0 (a CPU build needs
#                      only libtorch_cpu and libc10, which load libcudart/libcupti from the wheel's nvidia packages).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .cache

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# 1. Python reference stack (and libtorch).
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
	log "creating .venv with $($py --version 2>&1)"
	"$py" -m venv .venv
fi
if ! cat scripts/requirements.txt scripts/requirements-data.txt | cmp -s - .venv/.requirements.installed; then
	log "installing scripts/requirements.txt into .venv (torch 2.11.0 and its CUDA runtime packages are large; first run only)"
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
	.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r scripts/requirements-data.txt
	cat scripts/requirements.txt scripts/requirements-data.txt >.venv/.requirements.installed
fi
venv_torch=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')
torch_version=$(.venv/bin/python -c 'import torch; print(torch.__version__.split("+")[0])')

# The libtorch to build against: the venv's, or $LIBTORCH (same major.minor as the venv's torchgen, which
# describes the operators the bindings are generated for).
if [ -n "${LIBTORCH:-}" ]; then
	torch_dir=$(cd "$LIBTORCH" && pwd)
	[ -f "$torch_dir/lib/libtorch_cpu.so" ] || die "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so"
	# TORCH_VERSION_MAJOR/MINOR: in torch/headeronly/version.h since 2.9, in the C++ API's version.h before.
	vh=$(ls "$torch_dir/include/torch/headeronly/version.h" "$torch_dir/include/torch/csrc/api/include/torch/version.h" 2>/dev/null || true)
	[ -n "$vh" ] || die "LIBTORCH=$LIBTORCH has no include/torch/headeronly/version.h or include/torch/csrc/api/include/torch/version.h"
	lt_version=$(awk '$1=="#define" && $2=="TORCH_VERSION_MAJOR"{ma=$3} $1=="#define" && $2=="TORCH_VERSION_MINOR"{mi=$3} END{if (ma!="") print ma "." mi}' $vh)
	[ "$lt_version" = "${torch_version%.*}" ] ||
		die "LIBTORCH=$LIBTORCH is libtorch ${lt_version:-of unknown version}; the bindings are generated for $torch_version (scripts/requirements.txt)"
	# C++ ABI: libc10 exports std::__cxx11 symbols only when built with the C++11 ABI.
	if nm -D --defined-only "$torch_dir/lib/libc10.so" | grep -q __cxx11; then abi=1; else abi=0; fi
else
	torch_dir=$venv_torch
	abi=$(.venv/bin/python -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
fi
[ -f "$torch_dir/lib/libtorch_cpu.so" ] || die "no libtorch_cpu.so under $torch_dir/lib"

# Gloo's headers, which torch's ProcessGroupGloo.hpp includes and the wheel does not ship (Debian's libgloo-dev;
# the Gloo code itself is in libtorch_cpu).
if [ ! -f /usr/include/gloo/config.h ]; then
	log "installing libgloo-dev (Gloo's headers, for the c10d bindings)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgloo-dev; } >.cache/apt.log 2>&1 ||
		die "apt-get install libgloo-dev failed (see .cache/apt.log); install Gloo's headers (gloo/*.h) by hand"
fi

# 2. The generated gotch copy.
gotch_version=$(awk '$1=="github.com/sugarme/gotch"{print $2}' go.mod)
[ -n "$gotch_version" ] || gotch_version=$(awk '/github.com\/sugarme\/gotch /{print $2; exit}' go.mod)
cuda=${LORAPLUS_CUDA:-}
if [ -z "$cuda" ]; then
	cuda=0
	if [ -f "$torch_dir/lib/libtorch_cuda.so" ] && [ -e /proc/driver/nvidia ]; then cuda=1; fi
fi
libs="-ltorch_cpu -lc10"
if [ "$cuda" = 1 ]; then
	[ -f "$torch_dir/lib/libtorch_cuda.so" ] || die "LORAPLUS_CUDA=1 but $torch_dir/lib has no libtorch_cuda.so"
	libs="-ltorch_cuda -lc10_cuda $libs"
fi
libgo=$(
	cat <<GO
package libtch

// Generated by scripts/setup.sh for libtorch $torch_version in $torch_dir (CUDA: $cuda). Do not edit.

// #cgo CFLAGS: -I\${SRCDIR} -O2 -Wno-deprecated-declarations
// #cgo CXXFLAGS: -std=c++17 -I\${SRCDIR} -O1 -D_GLIBCXX_USE_CXX11_ABI=$abi -Wno-deprecated-declarations -Wno-unused-variable
// #cgo CXXFLAGS: -I$torch_dir/include -I$torch_dir/include/torch/csrc/api/include
// #cgo LDFLAGS: -Wl,--no-as-needed -L$torch_dir/lib -Wl,-rpath,$torch_dir/lib $libs -lstdc++
import "C"
GO
)
# The copy is regenerated only when its inputs change (a rebuild of the C++ bindings takes minutes).
gen_hash=$(cat $(ls scripts/gotchgen/*.go | grep -v _test.go) scripts/gotchgen/*.py scripts/patch-gotch.sh scripts/c10d/* | sha256sum | cut -c1-16)
want="gotch=$gotch_version torch=$torch_version lib.go=$(printf '%s' "$libgo" | sha256sum | cut -c1-16) gen=$gen_hash"
if [ "$(cat .gotch/.generated 2>/dev/null)" != "$want" ]; then
	log "generating .gotch: github.com/sugarme/gotch@$gotch_version bindings for libtorch $torch_version"
	src=$(GOWORK=off go mod download -json "github.com/sugarme/gotch@$gotch_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || die "go mod download gave no directory for gotch"
	rm -rf .gotch.tmp # the old copy stays usable until the new one is complete
	cp -r "$src" .gotch.tmp
	chmod -R u+w .gotch.tmp
	.venv/bin/python scripts/gotchgen/declarations.py .gotch.tmp/gen/Declarations.yaml
	GOWORK=off go run ./scripts/gotchgen -decl .gotch.tmp/gen/Declarations.yaml -gotch .gotch.tmp
	printf '%s\n' "$libgo" >.gotch.tmp/libtch/lib.go
	bash scripts/patch-gotch.sh .gotch.tmp
	# package dist: the c10d bindings (scripts/c10d), built with libtch's flags and Gloo's headers
	mkdir -p .gotch.tmp/dist
	cp scripts/c10d/dist.h scripts/c10d/dist.cpp .gotch.tmp/dist/
	sed '/^\/\/go:build ignore$/,+1d' scripts/c10d/dist.go >.gotch.tmp/dist/dist.go
	nccl=""
	if [ "$cuda" = 1 ]; then # ProcessGroupNCCL too, with the NCCL and CUDA runtime headers of the nvidia packages
		nv=$(cd "$torch_dir/.." && pwd)/nvidia
		# the CUDA headers ProcessGroupNCCL.hpp reaches include crt/host_config.h and nv/target, which come with the
		# toolkit's nvcc and cccl packages (the .venv's torch brings the runtime's only)
		if [ "$torch_dir" = "$venv_torch" ] && { [ ! -f "$nv/cu13/include/crt/host_config.h" ] || [ ! -e "$nv/cu13/include/nv/target" ]; }; then
			ct=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("cuda-toolkit"))')
			.venv/bin/python -m pip install --quiet --disable-pip-version-check "cuda-toolkit[nvcc,cccl]==$ct"
		fi
		[ -f "$nv/nccl/include/nccl.h" ] && [ -f "$nv/cu13/include/crt/host_config.h" ] && [ -e "$nv/cu13/include/nv/target" ] ||
			die "a CUDA build needs nccl.h and CUDA's headers (crt/host_config.h, nv/target) in $nv: pip install nvidia-nccl-cu13 'cuda-toolkit[nvcc,cccl]'"
		nccl="-DUSE_C10D_NCCL -DUSE_CUDA -I$nv/nccl/include -I$nv/cu13/include "
	fi
	printf '%s\n' "$libgo" | sed -e 's/^package libtch$/package dist/' \
		-e "s|^// #cgo CXXFLAGS: -std=c++17 |// #cgo CXXFLAGS: -std=c++17 -DUSE_C10D_GLOO $nccl|" >.gotch.tmp/dist/lib.go
	grep -q 'DUSE_C10D_GLOO' .gotch.tmp/dist/lib.go || die "could not write .gotch.tmp/dist/lib.go"
	echo "$want" >.gotch.tmp/.generated
	rm -rf .gotch
	mv .gotch.tmp .gotch
fi

# 3. go.work
gover=$(awk '$1=="go"{print $2; exit}' go.mod)
cat >go.work.tmp <<GO
// Generated by scripts/setup.sh. Do not edit.
go $gover

use .

replace github.com/sugarme/gotch $gotch_version => ./.gotch
GO
cmp -s go.work.tmp go.work 2>/dev/null && rm go.work.tmp || mv go.work.tmp go.work

# 4. Test assets.
if [ -f scripts/fetch-tokenizers.sh ]; then bash scripts/fetch-tokenizers.sh "$root/.cache/tokenizers"; fi

touch .cache/setup.done
