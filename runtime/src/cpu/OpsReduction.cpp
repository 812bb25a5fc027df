// OpsReduction.cpp - reduce_sum, reduce_max and softmax along one axis.

#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>

namespace lmc::cpu {
namespace {

using rt::Opcode;

/// The layout of lines along `axis`: `outer` blocks of `size` x `inner`.
struct Lines {
  int64_t outer = 1, size = 1, inner = 1;
};

bool linesOf(KernelContext &ctx, const Tensor &input, int64_t axis, Lines &lines) {
  if (axis < 0 || axis >= input.rank())
    return ctx.fail("axis " + std::to_string(axis) + " is out of range for " + describe(input));
  for (int64_t d = 0; d < axis; ++d)
    lines.outer *= input.shape[size_t(d)];
  lines.size = input.shape[size_t(axis)];
  for (size_t d = size_t(axis) + 1; d < input.shape.size(); ++d)
    lines.inner *= input.shape[d];
  return true;
}

bool runReduce(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t axis = ctx.instruction->ints[ops::slot::reduce::axis];
  bool isMax = ctx.instruction->opcode == Opcode::ReduceMax;
  Lines lines;
  if (!linesOf(ctx, input, axis, lines))
    return false;
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  if (!rt::isFloat(input.dtype)) {
    for (int64_t o = 0; o < lines.outer; ++o)
      for (int64_t i = 0; i < lines.inner; ++i) {
        int64_t acc = isMax ? INT64_MIN : 0;
        for (int64_t j = 0; j < lines.size; ++j) {
          int64_t value = integerAt(input, (o * lines.size + j) * lines.inner + i);
          acc = isMax ? std::max(acc, value) : int64_t(uint64_t(acc) + uint64_t(value));
        }
        int64_t at = o * lines.inner + i;
        if (result.dtype == DType::I64) result.as<int64_t>()[at] = acc;
        else if (result.dtype == DType::I32) result.as<int32_t>()[at] = int32_t(acc);
        else result.as<uint8_t>()[at] = acc != 0;
      }
    return true;
  }
  FloatInput x(input);
  FloatOutput out(result);
  const float *src = x.data();
  float *dst = out.data();
  parallelFor(lines.outer, lines.size * lines.inner, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      float *acc = dst + o * lines.inner;
      std::fill(acc, acc + lines.inner, isMax ? -INFINITY : 0.0f);
      for (int64_t j = 0; j < lines.size; ++j) {
        const float *row = src + (o * lines.size + j) * lines.inner;
        for (int64_t i = 0; i < lines.inner; ++i)
          acc[i] = isMax ? std::max(acc[i], row[i]) : acc[i] + row[i];
      }
    }
  });
  out.commit();
  return true;
}

bool runSoftmax(KernelContext &ctx, const Tensor &input, Tensor &result) {
  Lines lines;
  if (!linesOf(ctx, input, ctx.instruction->ints[ops::slot::softmax::axis], lines))
    return false;
  if (!rt::isFloat(input.dtype))
    return ctx.fail("needs a float operand, not " + describe(input));
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  FloatInput x(input);
  FloatOutput out(result);
  const float *src = x.data();
  float *dst = out.data();
  parallelFor(lines.outer * lines.inner, lines.size * 3, [&](int64_t begin, int64_t end) {
    for (int64_t line = begin; line < end; ++line) {
      int64_t o = line / lines.inner, i = line % lines.inner;
      int64_t base = o * lines.size * lines.inner + i, stride = lines.inner;
      float max = -INFINITY, sum = 0;
      for (int64_t j = 0; j < lines.size; ++j)
        max = std::max(max, src[base + j * stride]);
      for (int64_t j = 0; j < lines.size; ++j)
        sum += dst[base + j * stride] = std::exp(src[base + j * stride] - max);
      for (int64_t j = 0; j < lines.size; ++j)
        dst[base + j * stride] /= sum;
    }
  });
  out.commit();
  return true;
}

} // namespace

bool runReduction(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::ReduceSum: case Opcode::ReduceMax: return runReduce(ctx, *in[0], out[0]);
  case Opcode::Softmax: return runSoftmax(ctx, *in[0], out[0]);
  default: return ctx.fail("is not a reduction");
  }
}

} // namespace lmc::cpu
