// EmulatedNccl.cpp - NCCL's calls lmc makes, over a Communicator.

#include "EmulatedNccl.h"
#include "EmulatedStreams.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace lmc::testing {
namespace {

rt::Communicator *world = nullptr;
/// The one communicator a process makes (NCCL's handle is opaque).
int communicatorToken;
ncclComm_t theCommunicator() { return reinterpret_cast<ncclComm_t>(&communicatorToken); }

constexpr char kIdText[] = "lmc emulated NCCL id from pid ";

ncclResult_t version(int *value) {
  *value = 22800;
  return ncclSuccess;
}

ncclResult_t uniqueId(ncclUniqueId *id) {
  std::memset(id, 0, sizeof *id);
  std::string text = kIdText + std::to_string(getpid());
  std::memcpy(id->internal, text.data(), text.size());
  return ncclSuccess;
}

/// Every rank must hold rank 0's id, as NCCL's bootstrap requires.
ncclResult_t initRank(ncclComm_t *comm, int ranks, ncclUniqueId id, int rank) {
  if (!world || ranks != world->size() || rank != world->rank() ||
      std::strncmp(id.internal, kIdText, sizeof kIdText - 1) != 0)
    return ncclInvalidArgument;
  std::vector<uint8_t> mine(id.internal, id.internal + sizeof id.internal);
  std::vector<std::vector<uint8_t>> all;
  ::lmc::rt::Status error;
  if (!world->allGatherBytes(mine, all, error))
    return ncclSystemError;
  for (const std::vector<uint8_t> &theirs : all)
    if (theirs != mine)
      return ncclInvalidUsage;
  *comm = theCommunicator();
  return ncclSuccess;
}

/// Queues `exchange` on the stream, as NCCL does; its failure surfaces at
/// the stream's next synchronize.
ncclResult_t queue(cudaStream_t stream, std::function<bool(::lmc::rt::Status &)> exchange) {
  streams::enqueue(reinterpret_cast<CUstream>(stream), [exchange] {
    ::lmc::rt::Status error;
    return exchange(error) ? CUDA_SUCCESS : CUDA_ERROR_LAUNCH_FAILED;
  });
  return ncclSuccess;
}

ncclResult_t destroy(ncclComm_t comm) {
  return comm == theCommunicator() ? ncclSuccess : ncclInvalidArgument;
}

ncclResult_t allReduce(const void *send, void *receive, size_t count, ncclDataType_t type,
                       ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  if (comm != theCommunicator() || type != ncclFloat32 || op != ncclSum)
    return ncclInvalidArgument;
  return queue(stream, [=](::lmc::rt::Status &error) {
    if (send != receive)
      std::memmove(receive, send, count * sizeof(float));
    return world->allReduceSum(static_cast<float *>(receive), count, error);
  });
}

ncclResult_t reduceScatter(const void *send, void *receive, size_t count, ncclDataType_t type,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  if (comm != theCommunicator() || type != ncclFloat32 || op != ncclSum)
    return ncclInvalidArgument;
  return queue(stream, [=](::lmc::rt::Status &error) {
    return world->reduceScatterSum(static_cast<const float *>(send),
                                   static_cast<float *>(receive),
                                   std::vector<int>(size_t(world->size()), int(count)), error);
  });
}

ncclResult_t allGather(const void *send, void *receive, size_t count, ncclDataType_t type,
                       ncclComm_t comm, cudaStream_t stream) {
  size_t width = type == ncclFloat32 ? 4 : type == ncclUint8 ? 1 : 0;
  if (comm != theCommunicator() || width == 0)
    return ncclInvalidArgument;
  return queue(stream, [=](::lmc::rt::Status &error) {
    const auto *bytes = static_cast<const uint8_t *>(send);
    std::vector<std::vector<uint8_t>> all;
    if (!world->allGatherBytes({bytes, bytes + count * width}, all, error))
      return false;
    auto *into = static_cast<uint8_t *>(receive);
    for (const std::vector<uint8_t> &part : all) {
      if (part.size() != count * width)
        return false; // NCCL's all-gather takes the same count on every rank
      into = std::copy(part.begin(), part.end(), into);
    }
    return true;
  });
}

const char *describe(ncclResult_t result) {
  switch (result) {
  case ncclInvalidArgument: return "invalid argument (emulated NCCL)";
  case ncclInvalidUsage: return "invalid usage (emulated NCCL)";
  default: return "the emulated NCCL failed";
  }
}

} // namespace

const cuda::Nccl *emulatedNccl(rt::Communicator &ranks) {
  static cuda::Nccl nccl = [] {
    cuda::Nccl table;
    table.ncclGetVersion = version;
    table.ncclGetUniqueId = uniqueId;
    table.ncclCommInitRank = initRank;
    table.ncclCommDestroy = destroy;
    table.ncclCommAbort = destroy;
    table.ncclAllReduce = allReduce;
    table.ncclReduceScatter = reduceScatter;
    table.ncclAllGather = allGather;
    table.ncclGetErrorString = describe;
    return table;
  }();
  world = &ranks;
  return &nccl;
}

} // namespace lmc::testing
