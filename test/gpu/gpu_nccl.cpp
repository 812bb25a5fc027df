// gpu_nccl.cpp - `lmc-gpu-nccl`: the CUDA backend's collectives through
// the real NCCL on this machine's GPU, as one rank (the lent machine has one
// GPU, and NCCL refuses two ranks on one): opens libnccl, joins a one-rank
// communicator the way a multi-rank backend does (the unique id over the
// Communicator), and runs each collective kernel kind on device buffers,
// checking every element. What test/gpu/check.sh runs; several ranks are
// tested on emulated GPUs (test/unit/cuda/CudaZeroEmulationTest.cpp).
//
//   lmc-gpu-nccl      prints "lmc-gpu-nccl: NCCL <version>: <n> collectives ok"

#include "cuda/DeviceCollectives.h"

#include <cstdio>
#include <iterator>

namespace {

namespace rt = lmc::rt;
using lmc::cuda::DeviceCollectives;
using lmc::cuda::HostValue;

int fail(const std::string &message) {
  std::fprintf(stderr, "lmc-gpu-nccl: %s\n", message.c_str());
  return 1;
}
int fail(const rt::Status &error) { return fail(error.message()); }

/// A collective kernel of `opcode` over one rank, from f32 [5] to `result`.
rt::Kernel collective(rt::Opcode opcode, std::vector<int64_t> result, bool takesInput = true) {
  rt::Kernel kernel;
  kernel.name = "collective";
  kernel.kind = rt::KernelKind::Collective;
  rt::Instruction op;
  op.opcode = opcode;
  op.ints = {1};
  op.results.push_back({rt::DType::F32, result, {}});
  if (takesInput) {
    kernel.arguments.push_back({rt::DType::F32, {5}, {}});
    op.operands = {0};
  }
  kernel.body.push_back(op);
  kernel.yields = {int(kernel.arguments.size())};
  return kernel;
}

} // namespace

int main() {
  rt::Status error;
  const lmc::cuda::Driver *driver = lmc::cuda::Driver::get(error);
  const lmc::cuda::Nccl *nccl = driver ? lmc::cuda::Nccl::get(error) : nullptr;
  if (!nccl)
    return fail(error);
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUdeviceptr in = 0, out = 0, staging = 0;
  if (!driver->check(driver->cuDeviceGet(&device, 0), "cuDeviceGet", error) ||
      !driver->check(driver->cuDevicePrimaryCtxRetain(&context, device), "context", error) ||
      !driver->check(driver->cuCtxSetCurrent(context), "cuCtxSetCurrent", error) ||
      !driver->check(driver->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "stream", error) ||
      !driver->check(driver->cuMemAlloc(&in, 256), "cuMemAlloc", error) ||
      !driver->check(driver->cuMemAlloc(&out, 256), "cuMemAlloc", error) ||
      !driver->check(driver->cuMemAlloc(&staging, 4096), "cuMemAlloc", error))
    return fail(error);
  std::unique_ptr<DeviceCollectives> collectives =
      DeviceCollectives::create(*driver, *nccl, rt::singleRankCommunicator(), error);
  if (!collectives)
    return fail(error);
  const float input[5] = {1.5f, -2, 3.25f, 0, 7};
  // Over one rank every kind gives back its input.
  struct Case {
    const char *name;
    rt::Opcode opcode;
  };
  const Case cases[] = {{"all_reduce", rt::Opcode::AllReduce},
                        {"reduce_scatter", rt::Opcode::ReduceScatter},
                        {"all_gather", rt::Opcode::AllGather},
                        {"all_gather_rows", rt::Opcode::AllGatherRows},
                        {"shard_slice", rt::Opcode::ShardSlice}};
  for (const Case &c : cases) {
    rt::Kernel kernel = collective(c.opcode, {5});
    std::vector<HostValue> locals(1);
    locals[0].shape = {5};
    DeviceCollectives::Frame frame;
    std::vector<float> got(5, -1);
    if (!collectives->plan(kernel, locals, frame, error) ||
        frame.stagingBytes > 4096 ||
        !driver->check(driver->cuMemcpyHtoDAsync(in, input, sizeof input, stream), "upload",
                       error) ||
        !driver->check(driver->cuMemsetD8Async(out, 0xff, 256, stream), "poison", error) ||
        !collectives->run(kernel, locals, frame, {in, out}, staging, stream, error) ||
        !driver->check(driver->cuMemcpyDtoHAsync(got.data(), out, 5 * sizeof(float), stream),
                       "download", error) ||
        !driver->check(driver->cuStreamSynchronize(stream), c.name, error))
      return fail(std::string(c.name) + ": " + error.message());
    if (got != std::vector<float>(input, input + 5))
      return fail(std::string(c.name) + ": wrong values");
  }
  rt::Kernel rank = collective(rt::Opcode::Rank, {}, false);
  std::vector<HostValue> locals;
  DeviceCollectives::Frame frame;
  int64_t value = -1;
  if (!collectives->plan(rank, locals, frame, error) ||
      !collectives->run(rank, locals, frame, {out}, staging, stream, error) ||
      !driver->check(driver->cuMemcpyDtoHAsync(&value, out, sizeof value, stream), "rank",
                     error) ||
      !driver->check(driver->cuStreamSynchronize(stream), "rank", error))
    return fail("rank: " + error.message());
  if (value != 0)
    return fail("rank: " + std::to_string(value) + ", not 0");
  int version = 0;
  nccl->ncclGetVersion(&version);
  collectives.reset();
  std::printf("lmc-gpu-nccl: NCCL %d: %zu collectives ok\n", version, std::size(cases) + 1);
  return 0;
}
