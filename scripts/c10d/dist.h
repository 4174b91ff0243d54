// C interface of the c10d bindings (package dist of the generated gotch copy): a TCPStore rendezvous and a Gloo
// process group of libtorch's own torch.distributed, and the collectives a data-parallel trainer needs. Every
// function returns NULL on success or a malloc'd error message (the caller frees it).
#ifndef LORAPLUS_DIST_H
#define LORAPLUS_DIST_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef void *dist_group;

// dist_new joins the group of size ranks whose TCPStore listens on host:port (rank 0 serves it), waiting at most
// timeout_ms for the others; collectives time out after timeout_ms too. backend is "gloo" (CPU tensors) or "nccl"
// (CUDA tensors; only in a build with USE_C10D_NCCL, the CUDA build). With agent_store set every rank is a client of a
// store someone else serves (torchrun's agent does), and prefix, when not empty, prefixes every key (torchrun's
// "/worker/attempt_N", as torch.distributed's env:// rendezvous does).
char *dist_new(const char *backend, const char *host, int port, int rank, int size, int64_t timeout_ms, int agent_store,
               const char *prefix, dist_group *out);
// dist_allreduce_sum sums the tensor (a torch::Tensor*, contiguous; on the CPU for Gloo, on this rank's GPU for
// NCCL) over the ranks, in place.
char *dist_allreduce_sum(dist_group g, void *tensor);
// dist_broadcast copies root's tensor into every rank's, in place.
char *dist_broadcast(dist_group g, void *tensor, int root);
// dist_barrier returns when every rank has called it.
char *dist_barrier(dist_group g);
void dist_free(dist_group g);

#ifdef __cplusplus
}
#endif
#endif
