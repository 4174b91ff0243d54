#!/usr/bin/env bash
# Prepares another Go module (a gotch project) to import github.com/loraplus-go/loraplus from this checkout, built
# on the same generated gotch bindings and libtorch 2.11 as this repository:
#
#   scripts/use.sh DIR        (or: make use DIR=...)
#
# It first runs this repository's set-up (scripts/setup.sh: the .venv with libtorch 2.11, the generated gotch copy
# in .gotch; LIBTORCH and LORAPLUS_CUDA choose the libtorch as there), then changes exactly one file of DIR,
# DIR/go.work, with the go command's own workspace edits:
#   go work init .                                        (only when DIR has no go.work)
#   go work use . <this checkout>                         (DIR's module and this module)
#   go work edit -replace github.com/sugarme/gotch=<this checkout>/.gotch
# DIR/go.mod and DIR/go.sum are not touched; nothing in the Go module cache is. Afterwards `go build`, `go run`
# and `go test` in DIR import github.com/loraplus-go/loraplus/... and use the generated gotch. The paths are
# absolute: run it again after moving either directory. To undo, remove DIR/go.work (or those lines of it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'use: %s\n' "$*" >&2; exit 1; }

[ $# = 1 ] || die "usage: scripts/use.sh DIR (a directory holding a go.mod)"
[ -d "$1" ] || die "$1 is not a directory"
dir=$(cd "$1" && pwd)
[ -f "$dir/go.mod" ] || die "$dir has no go.mod: create the module first (go mod init NAME)"
[ "$dir" != "$root" ] || die "$dir is this repository; its own go.work is made by scripts/setup.sh"

bash "$root/scripts/setup.sh"

cd "$dir"
export GOWORK="$dir/go.work" # this file, even where a go.work above DIR or $GOWORK would be found
if [ ! -f go.work ]; then
	go work init .
	printf 'use: created %s/go.work\n' "$dir" >&2
fi
go work use . "$root"
go work edit -replace "github.com/sugarme/gotch=$root/.gotch"
printf 'use: %s/go.work now uses %s and replaces github.com/sugarme/gotch with %s/.gotch:\n' "$dir" "$root" "$root" >&2
sed 's/^/    /' go.work >&2
