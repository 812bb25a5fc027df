// Nccl.h - NCCL, opened at run time, for a training step's collectives
// between GPUs.
//
// Like the driver (Driver.h), libnccl is opened with dlopen when a
// multi-rank CUDA backend is first made, so lmc starts on machines without
// it; its absence is a message. Only the calls lmc makes are looked up.

#ifndef LMC_RUNTIME_CUDA_NCCL_H
#define LMC_RUNTIME_CUDA_NCCL_H

#include "Status.h"

#include <nccl.h>

#include <string>

namespace lmc::cuda {

#define LMC_NCCL_FUNCTIONS(X)                                                                     \
  X(ncclGetVersion) X(ncclGetUniqueId) X(ncclCommInitRank) X(ncclCommDestroy) X(ncclCommAbort)    \
  X(ncclAllReduce) X(ncclReduceScatter) X(ncclAllGather) X(ncclGetErrorString)

struct Nccl {
#define LMC_DECLARE(function) decltype(&::function) function = nullptr;
  LMC_NCCL_FUNCTIONS(LMC_DECLARE)
#undef LMC_DECLARE

  /// The process's NCCL, opened once; null with `error` set when there is
  /// none (libnccl.so.2 is looked up where the dynamic linker looks: set
  /// LD_LIBRARY_PATH to the directory of, say, PyTorch's copy).
  static const Nccl *get(rt::Status &error);

  /// False, with `error` = "<what>: <NCCL's description>", unless `result`
  /// is ncclSuccess.
  bool check(ncclResult_t result, const std::string &what, rt::Status &error) const;
};

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_NCCL_H
