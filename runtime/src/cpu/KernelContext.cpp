// KernelContext.cpp - result storage, errors, f32 views and threading for
// the CPU backend's ops.

#include "cpu/KernelContext.h"

#include "cpu/HalfFloat.h"

#include <algorithm>
#include <omp.h>

namespace lmc::cpu {

bool KernelContext::allocate(size_t result, DType dtype, Tensor &out) {
  const rt::TensorType &declared = instruction->results[result];
  if (declared.dtype != dtype)
    return fail("computes " + std::string(rt::dtypeName(dtype)) + " where the plan declares " +
                rt::dtypeName(declared.dtype));
  const ops::ValueShape &inferred = resultShapes[result];
  if (!inferred.isStatic())
    return fail("the shape of result #" + std::to_string(result) + " is not known");
  std::vector<int64_t> shape = inferred.shape;
  double bytes = double(rt::dtypeSize(dtype));
  for (int64_t dim : shape)
    bytes *= double(dim);
  if (bytes > double(memoryLimit))
    return fail("needs " + std::to_string(int64_t(bytes)) + " bytes for " + formatShape(shape) +
                    ", more than the memory limit of " + std::to_string(memoryLimit),
                LMC_STATUS_OUT_OF_MEMORY);
  out = allocator(result, dtype, std::move(shape));
  if (!out.data)
    return fail("cannot allocate " + std::to_string(out.numBytes()) + " bytes",
                LMC_STATUS_OUT_OF_MEMORY);
  return true;
}

bool KernelContext::fail(const std::string &text, lmc_status_code_t code) {
  if (status.ok())
    status.fail(code, "kernel '" + kernel.name + "', " +
                          (instruction ? rt::opcodeName(instruction->opcode) : "yield") + ": " +
                          text);
  return false;
}

FloatInput::FloatInput(const Tensor &tensor) {
  size_t count = size_t(tensor.numElements());
  if (tensor.dtype == DType::F32) {
    pointer = tensor.as<float>();
    return;
  }
  converted.resize(count);
  if (tensor.dtype == DType::F16)
    halfToFloat(tensor.as<uint16_t>(), converted.data(), count);
  else if (tensor.dtype == DType::BF16)
    bfloatToFloat(tensor.as<uint16_t>(), converted.data(), count);
  else
    for (size_t i = 0; i < count; ++i)
      converted[i] = float(realAt(tensor, int64_t(i)));
  pointer = converted.data();
}

FloatOutput::FloatOutput(Tensor &tensor) : tensor(tensor) {
  if (tensor.dtype == DType::F32) {
    pointer = tensor.as<float>();
  } else {
    buffer.resize(size_t(tensor.numElements()));
    pointer = buffer.data();
  }
}

void FloatOutput::commit() {
  size_t count = buffer.size();
  if (tensor.dtype == DType::F16)
    floatToHalf(buffer.data(), tensor.as<uint16_t>(), count);
  else if (tensor.dtype == DType::BF16)
    floatToBfloat(buffer.data(), tensor.as<uint16_t>(), count);
}

void parallelFor(int64_t count, int64_t cost,
                 const std::function<void(int64_t, int64_t)> &body) {
  // Below ~32K operations a thread costs more than it saves.
  constexpr int64_t kGrain = 1 << 15;
  int threads = omp_get_max_threads();
  int64_t useful = std::max<int64_t>(1, count * std::max<int64_t>(cost, 1) / kGrain);
  int chunks = int(std::min<int64_t>({int64_t(threads) * 4, useful, count}));
  if (chunks <= 1 || omp_in_parallel()) {
    if (count > 0)
      body(0, count);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int chunk = 0; chunk < chunks; ++chunk) {
    int64_t begin = count * chunk / chunks, end = count * (chunk + 1) / chunks;
    if (begin < end)
      body(begin, end);
  }
}

} // namespace lmc::cpu
