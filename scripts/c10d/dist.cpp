// c10d bindings: libtorch's TCPStore, ProcessGroupGloo and (in the CUDA build) ProcessGroupNCCL behind the C
// interface of dist.h. Built with the flags of the generated gotch's libtch (libtorch's headers and libraries) and
// Gloo's headers (Debian's libgloo-dev; the wheel ships the c10d headers and libtorch_cpu the Gloo code, but not
// Gloo's own headers); the CUDA build adds USE_C10D_NCCL and the NCCL and CUDA runtime headers of the wheel's
// nvidia packages (libtorch_cuda holds ProcessGroupNCCL).
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <string>

#include "dist.h"

namespace {

struct group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> pg;
  std::chrono::milliseconds timeout;
};

char *error(const char *what) { return strdup(what); }

template <typename F> char *guard(F f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception &e) {
    return error(e.what());
  } catch (...) {
    return error("unknown C++ exception");
  }
}

// wait waits for a collective; a peer that died or a timeout throws.
void wait(group *g, const c10::intrusive_ptr<c10d::Work> &w) {
  if (!w->wait(g->timeout)) {
    throw std::runtime_error("collective did not complete in time");
  }
}

} // namespace

extern "C" {

char *dist_new(const char *backend, const char *host, int port, int rank, int size, int64_t timeout_ms,
               int agent_store, const char *prefix, dist_group *out) {
  return guard([&] {
    std::string b(backend);
    if (b != "gloo" && b != "nccl") {
      throw std::runtime_error("unknown backend \"" + b + "\" (want gloo or nccl)");
    }
#ifndef USE_C10D_NCCL
    if (b == "nccl") {
      throw std::runtime_error("this build has no NCCL: it links libtorch's CPU libraries only (build with LORAPLUS_CUDA=1)");
    }
#endif
    std::chrono::milliseconds timeout(timeout_ms);
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(port);
    o.isServer = rank == 0 && !agent_store;
    o.numWorkers = size;
    o.timeout = timeout;
    if (agent_store) {
      o.waitWorkers = false; // the agent's store counts its own clients
    }
    c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
    if (prefix != nullptr && prefix[0] != 0) {
      store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), store);
    }
    c10::intrusive_ptr<c10d::Backend> pg;
    if (b == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
      pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
    }
#ifdef USE_C10D_NCCL
    if (b == "nccl") {
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
    }
#endif
    *out = new group{store, pg, timeout};
  });
}

char *dist_allreduce_sum(dist_group g, void *tensor) {
  return guard([&] {
    auto *gr = static_cast<group *>(g);
    std::vector<at::Tensor> v{*static_cast<torch::Tensor *>(tensor)};
    wait(gr, gr->pg->allreduce(v));
  });
}

char *dist_broadcast(dist_group g, void *tensor, int root) {
  return guard([&] {
    auto *gr = static_cast<group *>(g);
    std::vector<at::Tensor> v{*static_cast<torch::Tensor *>(tensor)};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    wait(gr, gr->pg->broadcast(v, o));
  });
}

char *dist_barrier(dist_group g) {
  return guard([&] {
    auto *gr = static_cast<group *>(g);
    wait(gr, gr->pg->barrier());
  });
}

void dist_free(dist_group g) { delete static_cast<group *>(g); }

} // extern "C"
