//go:build ignore

// Package dist binds libtorch's torch.distributed (c10d): a TCPStore rendezvous, a Gloo process group and the
// collectives of a data-parallel trainer. Written into the generated gotch copy by scripts/setup.sh with lib.go,
// which carries libtch's flags; this project's loraplus/dist is the API to use.
package dist

// #include <stdlib.h>
// #include "dist.h"
import "C"

import (
	"errors"
	"time"
	"unsafe"

	"github.com/sugarme/gotch/ts"
)

// Group is one rank's membership of a process group.
type Group struct{ g C.dist_group }

func check(msg *C.char) error {
	if msg == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(msg))
	return errors.New(C.GoString(msg))
}

// New joins, with backend "gloo" (CPU tensors) or "nccl" (CUDA tensors; the CUDA build only), the group of size
// ranks whose store rank 0 serves on host:port, or, with agentStore, a store served by another process
// (torchrun's agent); prefix, when not empty, prefixes the store's keys.
func New(backend, host string, port, rank, size int, timeout time.Duration, agentStore bool, prefix string) (*Group, error) {
	h, b, p := C.CString(host), C.CString(backend), C.CString(prefix)
	defer C.free(unsafe.Pointer(h))
	defer C.free(unsafe.Pointer(b))
	defer C.free(unsafe.Pointer(p))
	agent := C.int(0)
	if agentStore {
		agent = 1
	}
	var g C.dist_group
	if err := check(C.dist_new(b, h, C.int(port), C.int(rank), C.int(size), C.int64_t(timeout.Milliseconds()), agent, p, &g)); err != nil {
		return nil, err
	}
	return &Group{g: g}, nil
}

// AllReduceSum sums t (contiguous, on the CPU) over the ranks, in place.
func (g *Group) AllReduceSum(t *ts.Tensor) error {
	return check(C.dist_allreduce_sum(g.g, t.Ctensor()))
}

// Broadcast copies root's t into every rank's t, in place.
func (g *Group) Broadcast(t *ts.Tensor, root int) error {
	return check(C.dist_broadcast(g.g, t.Ctensor(), C.int(root)))
}

// Barrier returns when every rank has called it.
func (g *Group) Barrier() error { return check(C.dist_barrier(g.g)) }

// Close leaves the group.
func (g *Group) Close() {
	if g.g != nil {
		C.dist_free(g.g)
		g.g = nil
	}
}
