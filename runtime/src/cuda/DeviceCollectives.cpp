// DeviceCollectives.cpp - NCCL's communicator and the collective kernels'
// calls (see DeviceCollectives.h).

#include "cuda/DeviceCollectives.h"

#include "artifact/OpSlots.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace lmc::cuda {
namespace {

void *device(CUdeviceptr pointer) { return reinterpret_cast<void *>(pointer); }

/// The bytes of one row (dimension 0) of an argument of `kernel`.
size_t rowBytesOf(const rt::Kernel &kernel, const HostValue &value) {
  return rt::dtypeSize(kernel.arguments[0].dtype) * size_t(value.numElements(1));
}

} // namespace

bool chooseRankDevice(rt::Communicator &ranks, int count, int &device, rt::Status &error) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::vector<uint8_t> mine(host, host + std::strlen(host));
  std::vector<std::vector<uint8_t>> all;
  if (!ranks.allGatherBytes(mine, all, error))
    return false;
  int place = 0, sharing = 0;
  for (int r = 0; r < int(all.size()); ++r)
    if (all[size_t(r)] == mine) {
      place += r < ranks.rank();
      ++sharing;
    }
  if (sharing > count)
    return error.fail(std::to_string(sharing) + " ranks run on host '" + host + "', which has " +
                      std::to_string(count) +
                      " GPU(s): NCCL needs a GPU of its own for each "
                      "rank (launch at most " +
                      std::to_string(count) + " per host)");
  device = place;
  return true;
}

std::unique_ptr<DeviceCollectives> DeviceCollectives::create(const Driver &driver, const Nccl &nccl,
                                                             rt::Communicator &ranks,
                                                             rt::Status &error) {
  std::unique_ptr<DeviceCollectives> collectives(new DeviceCollectives(driver, nccl, ranks));
  // Rank 0 makes the id; every rank receives it over the communicator.
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  rt::Status failure;
  bool made = ranks.rank() != 0 || nccl.check(nccl.ncclGetUniqueId(&id), "ncclGetUniqueId",
                                               failure);
  std::vector<uint8_t> mine(made ? sizeof id : 0);
  std::memcpy(mine.data(), &id, mine.size());
  std::vector<std::vector<uint8_t>> all;
  if (!ranks.allGatherBytes(mine, all, error))
    return nullptr;
  if (all[0].size() != sizeof id) {
    if (ranks.rank() == 0)
      error = failure;
    else
      error.fail(LMC_STATUS_UNAVAILABLE, "rank 0 could not make NCCL's unique id");
    return nullptr;
  }
  std::memcpy(&id, all[0].data(), sizeof id);
  if (!nccl.check(nccl.ncclCommInitRank(&collectives->comm, ranks.size(), id, ranks.rank()),
                  "ncclCommInitRank (rank " + std::to_string(ranks.rank()) + " of " +
                      std::to_string(ranks.size()) + ")",
                  error))
    return nullptr;
  return collectives;
}

DeviceCollectives::~DeviceCollectives() {
  if (comm)
    nccl.ncclCommDestroy(comm);
}

bool DeviceCollectives::plan(const rt::Kernel &kernel, std::vector<HostValue> &locals, Frame &frame,
                             rt::Status &error) const {
  const rt::Instruction &op = kernel.body[0];
  std::string where = "kernel '" + kernel.name + "': ";
  int64_t count = op.ints.empty() ? 0 : op.ints[ops::slot::collective::ranks];
  if (count != ranks.size())
    return error.fail(where + "was compiled for " + std::to_string(count) +
                      " ranks; this run has " + std::to_string(ranks.size()));
  locals.resize(kernel.numLocals());
  HostValue &result = locals[kernel.arguments.size()];
  result = HostValue();
  if (op.opcode == rt::Opcode::Rank)
    return true; // a scalar
  const HostValue &input = locals[size_t(op.operands[0])];
  int64_t elements = input.numElements();
  auto shardOf = [&](int64_t n) { return (n + count - 1) / count; };
  switch (op.opcode) {
  case rt::Opcode::AllReduce: result.shape = input.shape; return true;
  case rt::Opcode::ShardSlice: result.shape = {shardOf(elements)}; return true;
  case rt::Opcode::ReduceScatter: {
    int64_t shard = shardOf(elements);
    result.shape = {shard};
    if (shard * count != elements)
      frame.stagingBytes = deviceAligned(size_t(shard * count) * sizeof(float));
    return true;
  }
  case rt::Opcode::AllGather: {
    result.shape = op.results[0].shape;
    int64_t whole = result.numElements(), shard = shardOf(whole);
    if (elements != shard)
      return error.fail(where + "gathers shards of " + std::to_string(shard) + " elements, not " +
                        std::to_string(elements));
    if (shard * count != whole)
      frame.stagingBytes = deviceAligned(size_t(shard * count) * sizeof(float));
    return true;
  }
  case rt::Opcode::AllGatherRows: {
    int64_t rows = input.shape.empty() ? 0 : input.shape[0];
    std::vector<uint8_t> mine(sizeof rows);
    std::memcpy(mine.data(), &rows, sizeof rows);
    std::vector<std::vector<uint8_t>> all;
    if (!ranks.allGatherBytes(mine, all, error))
      return false;
    int64_t total = 0, most = 0;
    for (const std::vector<uint8_t> &part : all) {
      int64_t theirs = 0;
      if (part.size() != sizeof theirs)
        return error.fail(where + "a rank sent no row count");
      std::memcpy(&theirs, part.data(), sizeof theirs);
      frame.rowsPerRank.push_back(theirs);
      total += theirs;
      most = std::max(most, theirs);
    }
    result.shape = input.shape;
    result.shape[0] = total;
    // This rank's rows padded to the longest, then every rank's.
    frame.stagingBytes =
        deviceAligned(size_t(most) * rowBytesOf(kernel, input)) * size_t(count + 1);
    return true;
  }
  default:
    return error.fail(where + "is not a collective");
  }
}

bool DeviceCollectives::run(const rt::Kernel &kernel, const std::vector<HostValue> &locals,
                            const Frame &frame, const std::vector<CUdeviceptr> &pointers,
                            CUdeviceptr staging, CUstream stream, rt::Status &error) const {
  const rt::Instruction &op = kernel.body[0];
  std::string what = "kernel '" + kernel.name + "'";
  size_t resultLocal = kernel.arguments.size();
  CUdeviceptr out = pointers[resultLocal];
  auto *queue = reinterpret_cast<cudaStream_t>(stream);
  if (op.opcode == rt::Opcode::Rank)
    return driver.check(driver.cuMemcpyHtoDAsync(out, &rankValue, sizeof rankValue, stream),
                        what, error);
  CUdeviceptr in = pointers[size_t(op.operands[0])];
  const HostValue &input = locals[size_t(op.operands[0])];
  const HostValue &result = locals[resultLocal];
  size_t inBytes = size_t(input.numElements()) * sizeof(float);
  size_t outBytes = size_t(result.numElements()) * sizeof(float);
  size_t count = size_t(ranks.size());
  switch (op.opcode) {
  case rt::Opcode::AllReduce:
    return nccl.check(nccl.ncclAllReduce(device(in), device(out), size_t(input.numElements()),
                                         ncclFloat32, ncclSum, comm, queue),
                      what + ": ncclAllReduce", error);
  case rt::Opcode::ReduceScatter: {
    CUdeviceptr from = in;
    if (frame.stagingBytes) { // zero-padded to a whole number of shards
      from = staging;
      if (!driver.check(driver.cuMemsetD8Async(staging, 0, count * outBytes, stream), what,
                        error) ||
          !driver.check(driver.cuMemcpyDtoDAsync(staging, in, inBytes, stream), what, error))
        return false;
    }
    return nccl.check(nccl.ncclReduceScatter(device(from), device(out),
                                             size_t(result.numElements()), ncclFloat32, ncclSum,
                                             comm, queue),
                      what + ": ncclReduceScatter", error);
  }
  case rt::Opcode::AllGather: {
    CUdeviceptr into = frame.stagingBytes ? staging : out;
    return nccl.check(nccl.ncclAllGather(device(in), device(into), size_t(input.numElements()),
                                         ncclFloat32, comm, queue),
                      what + ": ncclAllGather", error) &&
           (!frame.stagingBytes || // the shards' padding dropped
            driver.check(driver.cuMemcpyDtoDAsync(out, staging, outBytes, stream), what, error));
  }
  case rt::Opcode::AllGatherRows: {
    size_t rowBytes = rowBytesOf(kernel, input);
    size_t most = size_t(*std::max_element(frame.rowsPerRank.begin(), frame.rowsPerRank.end()));
    size_t slot = deviceAligned(most * rowBytes);
    CUdeviceptr joined = staging + slot;
    if (slot == 0)
      return true;
    if (!driver.check(driver.cuMemcpyDtoDAsync(staging, in, size_t(input.shape[0]) * rowBytes,
                                               stream),
                      what, error) ||
        !nccl.check(nccl.ncclAllGather(device(staging), device(joined), slot, ncclUint8, comm,
                                       queue),
                    what + ": ncclAllGather", error))
      return false;
    for (size_t r = 0; r < count; ++r) {
      size_t bytes = size_t(frame.rowsPerRank[r]) * rowBytes;
      if (bytes && !driver.check(driver.cuMemcpyDtoDAsync(out, joined + r * slot, bytes, stream),
                                 what, error))
        return false;
      out += bytes;
    }
    return true;
  }
  case rt::Opcode::ShardSlice: {
    size_t begin = std::min(inBytes, size_t(ranks.rank()) * outBytes);
    size_t bytes = std::min(inBytes - begin, outBytes);
    return driver.check(driver.cuMemsetD8Async(out, 0, outBytes, stream), what, error) &&
           (bytes == 0 ||
            driver.check(driver.cuMemcpyDtoDAsync(out, in + begin, bytes, stream), what, error));
  }
  default:
    return error.fail(what + " is not a collective");
  }
}

} // namespace lmc::cuda
