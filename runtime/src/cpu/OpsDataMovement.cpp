// OpsDataMovement.cpp - reshape, transpose, concat, slice and constants.
//
// These move elements without looking at them, so they copy bytes and work
// for every element type.

#include "cpu/KernelContext.h"

#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

// Each result's shape comes from the shape rule, which has checked the
// permutation, the axes and the slice bounds against the operands.

bool runReshape(KernelContext &ctx, const Tensor &input, Tensor &result) {
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  if (result.data != input.data)
    std::memmove(result.data, input.data, input.numBytes());
  return true;
}

bool runTranspose(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const std::vector<int64_t> &permutation = ctx.instruction->ints;
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  const std::vector<int64_t> &shape = result.shape;
  size_t rank = shape.size();
  std::vector<int64_t> inStrides = stridesOf(input.shape), outStrides = stridesOf(shape);
  size_t width = rt::dtypeSize(input.dtype);
  const auto *src = input.as<uint8_t>();
  auto *dst = result.as<uint8_t>();
  // Copy whole runs when the innermost dimension stays innermost.
  bool innerKept = rank && size_t(permutation.back()) == rank - 1;
  int64_t run = innerKept ? shape.back() : 1;
  int64_t runs = run ? result.numElements() / run : 0;
  parallelFor(runs, run, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t i = r * run, from = 0;
      for (size_t d = 0; d < rank; ++d)
        from += (i / outStrides[d]) % shape[d] * inStrides[size_t(permutation[d])];
      std::memcpy(dst + size_t(i) * width, src + size_t(from) * width, size_t(run) * width);
    }
  });
  return true;
}

bool runConcat(KernelContext &ctx, const Operands &in, Tensor &result) {
  int64_t axis = ctx.instruction->ints[ops::slot::concat::axis];
  const Tensor &first = *in[0];
  for (const Tensor *tensor : in)
    if (tensor->dtype != first.dtype)
      return ctx.fail("inputs " + describe(first) + " and " + describe(*tensor) +
                      " differ in type");
  if (!ctx.allocate(0, first.dtype, result))
    return false;
  const std::vector<int64_t> &shape = result.shape;
  int64_t outer = 1, inner = int64_t(rt::dtypeSize(first.dtype));
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t rowBytes = shape[size_t(axis)] * inner;
  auto *dst = result.as<uint8_t>();
  parallelFor(outer, rowBytes / 4, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      int64_t position = 0;
      for (const Tensor *tensor : in) {
        int64_t chunk = tensor->shape[size_t(axis)] * inner;
        std::memcpy(dst + o * rowBytes + position, tensor->as<uint8_t>() + o * chunk,
                    size_t(chunk));
        position += chunk;
      }
    }
  });
  return true;
}

bool runSlice(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t axis = ctx.instruction->ints[ops::slot::slice::axis],
          start = ctx.instruction->ints[ops::slot::slice::start];
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  const std::vector<int64_t> &shape = result.shape;
  int64_t outer = 1, inner = int64_t(rt::dtypeSize(input.dtype));
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t inRow = input.shape[size_t(axis)] * inner, outRow = shape[size_t(axis)] * inner;
  for (int64_t o = 0; o < outer; ++o)
    std::memmove(result.as<uint8_t>() + o * outRow,
                 input.as<uint8_t>() + o * inRow + start * inner, size_t(outRow));
  return true;
}

bool runConstant(KernelContext &ctx, Tensor &result) {
  const rt::Constant &constant = ctx.plan.constants[size_t(ctx.instruction->ints[ops::slot::constant::index])];
  if (!ctx.allocate(0, constant.type.dtype, result))
    return false;
  if (constant.data.size() != result.numBytes())
    return ctx.fail("constant #" + std::to_string(ctx.instruction->ints[ops::slot::constant::index]) +
                    " holds " + std::to_string(constant.data.size()) + " bytes, not " +
                    std::to_string(result.numBytes()));
  std::memcpy(result.data, constant.data.data(), constant.data.size());
  return true;
}

} // namespace

bool runDataMovement(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::Reshape: return runReshape(ctx, *in[0], out[0]);
  case Opcode::Transpose: return runTranspose(ctx, *in[0], out[0]);
  case Opcode::Concat: return runConcat(ctx, in, out[0]);
  case Opcode::Slice: return runSlice(ctx, *in[0], out[0]);
  case Opcode::Constant: return runConstant(ctx, out[0]);
  default: return ctx.fail("is not a data-movement op");
  }
}

} // namespace lmc::cpu
