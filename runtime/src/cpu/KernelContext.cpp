// KernelContext.cpp - result storage, errors, f32 views and threading for
// the CPU backend's ops.

#include "cpu/KernelContext.h"

#include "cpu/HalfFloat.h"
#include "cpu/ScratchPool.h"

#include <algorithm>

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

namespace {

/// Room for `count` floats from a pool shared by every kernel's f16/bf16
/// conversions: a fresh buffer per op costs a page fault per page touched
/// (measured 15% of an fp16 encoder's run).
std::shared_ptr<uint8_t[]> conversionBuffer(int64_t count) {
  static ScratchPool pool(size_t(256) << 20);
  size_t bytes = size_t(count) * sizeof(float);
  std::shared_ptr<uint8_t[]> buffer = pool.take(bytes);
  return buffer ? buffer : std::shared_ptr<uint8_t[]>(new uint8_t[std::max<size_t>(bytes, 1)]);
}

} // namespace

FloatInput::FloatInput(const Tensor &tensor) {
  if (tensor.dtype == DType::F32 || tensor.widened) {
    pointer = tensor.dtype == DType::F32 ? tensor.as<float>() : tensor.widened;
    return;
  }
  converted = conversionBuffer(tensor.numElements());
  float *to = reinterpret_cast<float *>(converted.get());
  widen(tensor, to);
  pointer = to;
}

void widen(const Tensor &tensor, float *to) {
  parallelFor(tensor.numElements(), 4, [&](int64_t begin, int64_t end) {
    if (tensor.dtype == DType::F16)
      halfToFloat(tensor.as<uint16_t>() + begin, to + begin, size_t(end - begin));
    else if (tensor.dtype == DType::BF16)
      bfloatToFloat(tensor.as<uint16_t>() + begin, to + begin, size_t(end - begin));
    else
      for (int64_t i = begin; i < end; ++i)
        to[i] = float(realAt(tensor, i));
  });
}

FloatOutput::FloatOutput(Tensor &tensor) : tensor(tensor) {
  if (tensor.dtype == DType::F32) {
    pointer = tensor.as<float>();
  } else {
    buffer = conversionBuffer(tensor.numElements());
    pointer = reinterpret_cast<float *>(buffer.get());
  }
}

void FloatOutput::commit() {
  if (!buffer)
    return;
  const float *from = reinterpret_cast<const float *>(buffer.get());
  parallelFor(tensor.numElements(), 4, [&](int64_t begin, int64_t end) {
    if (tensor.dtype == DType::F16)
      floatToHalf(from + begin, tensor.as<uint16_t>() + begin, size_t(end - begin));
    else if (tensor.dtype == DType::BF16)
      floatToBfloat(from + begin, tensor.as<uint16_t>() + begin, size_t(end - begin));
  });
}

} // namespace lmc::cpu
