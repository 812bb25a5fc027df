// OpsDataMovement.cpp - reshape, transpose, concat, slice and constants.
//
// These move elements without looking at them, so they copy bytes and work
// for every element type.

#include "cpu/KernelContext.h"

#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

bool runReshape(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const std::vector<int64_t> &declared = ctx.instruction->results[0].shape;
  const std::vector<int64_t> &inputType = ctx.operandTypes[0]->shape;
  // The verifier's rule: leading dimensions the two types share pass
  // through; one other dynamic dimension takes the remaining elements.
  size_t shared = 0;
  while (shared < inputType.size() && shared < declared.size() &&
         inputType[shared] == declared[shared] && shared < input.shape.size())
    ++shared;
  std::vector<int64_t> shape(declared);
  int64_t known = 1;
  int inferred = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0 && d < shared)
      shape[d] = input.shape[d];
    if (shape[d] < 0) {
      if (inferred >= 0)
        return ctx.fail("cannot infer two dimensions of " + formatShape(declared));
      inferred = int(d);
    } else {
      known *= shape[d];
    }
  }
  int64_t count = input.numElements();
  if (inferred >= 0)
    shape[size_t(inferred)] = known ? count / known : 0;
  if ((inferred >= 0 ? known * shape[size_t(inferred)] : known) != count)
    return ctx.fail("cannot reshape " + describe(input) + " into " + formatShape(declared));
  if (!ctx.allocate(0, input.dtype, shape, result))
    return false;
  if (result.data != input.data)
    std::memmove(result.data, input.data, input.numBytes());
  return true;
}

bool runTranspose(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const std::vector<int64_t> &permutation = ctx.instruction->ints;
  size_t rank = input.shape.size();
  std::vector<bool> seen(rank, false);
  if (permutation.size() != rank)
    return ctx.fail("permutes " + std::to_string(permutation.size()) +
                    " dimensions of " + describe(input));
  std::vector<int64_t> shape;
  for (int64_t dim : permutation) {
    if (dim < 0 || size_t(dim) >= rank || seen[size_t(dim)])
      return ctx.fail("has an invalid permutation");
    seen[size_t(dim)] = true;
    shape.push_back(input.shape[size_t(dim)]);
  }
  if (!ctx.allocate(0, input.dtype, shape, result))
    return false;
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
  if (axis < 0 || axis >= first.rank())
    return ctx.fail("axis " + std::to_string(axis) + " is out of range");
  std::vector<int64_t> shape(first.shape);
  shape[size_t(axis)] = 0;
  for (const Tensor *tensor : in) {
    bool fits = tensor->dtype == first.dtype && tensor->rank() == first.rank();
    for (size_t d = 0; fits && d < shape.size(); ++d)
      fits = int64_t(d) == axis || tensor->shape[d] == first.shape[d];
    if (!fits)
      return ctx.fail("inputs " + describe(first) + " and " + describe(*tensor) +
                      " do not concatenate");
    shape[size_t(axis)] += tensor->shape[size_t(axis)];
  }
  if (!ctx.allocate(0, first.dtype, shape, result))
    return false;
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
          start = ctx.instruction->ints[ops::slot::slice::start],
          limit = ctx.instruction->ints[ops::slot::slice::limit];
  if (axis < 0 || axis >= input.rank() || start < 0 || limit < start ||
      limit > input.shape[size_t(axis)])
    return ctx.fail("slice [" + std::to_string(start) + ", " + std::to_string(limit) +
                    ") of axis " + std::to_string(axis) + " does not fit " + describe(input));
  std::vector<int64_t> shape(input.shape);
  shape[size_t(axis)] = limit - start;
  if (!ctx.allocate(0, input.dtype, shape, result))
    return false;
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
  if (!ctx.allocate(0, constant.type.dtype, constant.type.shape, result))
    return false;
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
