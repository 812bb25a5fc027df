// OpsComposite.cpp - layer_norm, rms_norm, gelu and embedding lookups.

#include "cpu/CpuFeatures.h"
#include "cpu/FastMath.h"
#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

bool runNorm(KernelContext &ctx, const Operands &in, Tensor &result, bool centered) {
  const Tensor &input = *in[0], &gamma = *in[1];
  const Tensor *beta = centered ? in[2] : nullptr;
  int64_t width = input.rank() ? input.shape.back() : 0;
  if (!rt::isFloat(input.dtype) || gamma.numElements() != width ||
      (beta && beta->numElements() != width))
    return ctx.fail("input " + describe(input) + " and scale " + describe(gamma) +
                    " do not fit");
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  if (width == 0)
    return true;
  float epsilon = float(ctx.instruction->reals[ops::slot::norm::epsilon]);
  FloatInput x(input), g(gamma);
  std::optional<FloatInput> b;
  if (beta)
    b.emplace(*beta);
  FloatOutput out(result);
  const float *src = x.data(), *gp = g.data(), *bp = beta ? b->data() : nullptr;
  float *dst = out.data();
  parallelFor(input.numElements() / width, width * 4, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float *xr = src + row * width;
      float *yr = dst + row * width;
      float mean = 0, square = 0;
      if (centered) {
        for (int64_t i = 0; i < width; ++i)
          mean += xr[i];
        mean /= float(width);
      }
      for (int64_t i = 0; i < width; ++i)
        square += (xr[i] - mean) * (xr[i] - mean);
      float scale = 1.0f / std::sqrt(square / float(width) + epsilon);
      for (int64_t i = 0; i < width; ++i)
        yr[i] = (xr[i] - mean) * scale * gp[i] + (bp ? bp[i] : 0.0f);
    }
  });
  out.commit();
  return true;
}

/// GELU over [begin, end): tanh approximation or erf, compiled baseline and
/// AVX2+FMA (the tanh form vectorizes through fastTanh). The plan may run it
/// in place (dst == src); reading each block through a local copy keeps the
/// loop vectorized then, where possible aliasing would make it scalar.
__attribute__((always_inline)) inline void geluBody(const float *src, float *dst,
                                                    int64_t begin, int64_t end, bool useTanh) {
  const float k = 0.7978845608f, invSqrt2 = 0.7071067812f; // sqrt(2/pi), 1/sqrt(2)
  constexpr int64_t kBlock = 256;
  float block[kBlock];
  for (int64_t start = begin; start < end; start += kBlock) {
    int64_t count = std::min(kBlock, end - start);
    std::copy(src + start, src + start + count, block);
    float *out = dst + start;
    if (useTanh)
      for (int64_t i = 0; i < count; ++i) {
        float v = block[i];
        out[i] = 0.5f * v * (1.0f + fastTanh(k * (v + 0.044715f * v * v * v)));
      }
    else
      for (int64_t i = 0; i < count; ++i)
        out[i] = 0.5f * block[i] * (1.0f + std::erf(block[i] * invSqrt2));
  }
}

void geluBaseline(const float *src, float *dst, int64_t begin, int64_t end, bool useTanh) {
  geluBody(src, dst, begin, end, useTanh);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void geluAvx2(const float *src, float *dst, int64_t begin,
                                                  int64_t end, bool useTanh) {
  geluBody(src, dst, begin, end, useTanh);
}
#endif

bool runGelu(KernelContext &ctx, const Tensor &input, Tensor &result) {
  if (!rt::isFloat(input.dtype))
    return ctx.fail("needs a float operand, not " + describe(input));
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  bool useTanh = ctx.instruction->ints[ops::slot::gelu::tanh] != 0;
  FloatInput x(input);
  FloatOutput out(result);
  const float *src = x.data();
  float *dst = out.data();
  bool avx2 = cpuIsa() >= Isa::Avx2;
  parallelFor(input.numElements(), 20, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__)
    if (avx2)
      return geluAvx2(src, dst, begin, end, useTanh);
#endif
    geluBaseline(src, dst, begin, end, useTanh);
  });
  out.commit();
  return true;
}

bool runEmbedding(KernelContext &ctx, const Tensor &table, const Tensor &ids,
                  Tensor &result) {
  if (table.rank() != 2 || (ids.dtype != DType::I64 && ids.dtype != DType::I32))
    return ctx.fail("table " + describe(table) + " and ids " + describe(ids) + " do not fit");
  int64_t rows = table.shape[0], dim = table.shape[1];
  if (!ctx.allocate(0, table.dtype, result))
    return false;
  size_t rowBytes = size_t(dim) * rt::dtypeSize(table.dtype);
  auto *dst = result.as<uint8_t>();
  parallelFor(ids.numElements(), dim, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t id = integerAt(ids, i);
      // An id outside the table (a missing feature) gives a zero row.
      if (id >= 0 && id < rows)
        std::memcpy(dst + size_t(i) * rowBytes, table.as<uint8_t>() + size_t(id) * rowBytes,
                    rowBytes);
      else
        std::memset(dst + size_t(i) * rowBytes, 0, rowBytes);
    }
  });
  return true;
}

} // namespace

bool runComposite(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::LayerNorm: return runNorm(ctx, in, out[0], true);
  case Opcode::RmsNorm: return runNorm(ctx, in, out[0], false);
  case Opcode::Gelu: return runGelu(ctx, *in[0], out[0]);
  case Opcode::Embedding: return runEmbedding(ctx, *in[0], *in[1], out[0]);
  default: return ctx.fail("is not a composite op");
  }
}

} // namespace lmc::cpu
