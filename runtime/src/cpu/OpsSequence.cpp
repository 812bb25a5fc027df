// OpsSequence.cpp - unpad, pad, segment_reduce and positions: moving
// between padded [B, S, ...] and packed [T, ...] layouts.

#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

bool isIndex(const Tensor &t) { return t.dtype == DType::I32 || t.dtype == DType::I64; }

void storeIndex(Tensor &t, int64_t i, int64_t value) {
  if (t.dtype == DType::I32)
    t.as<int32_t>()[i] = int32_t(value);
  else
    t.as<int64_t>()[i] = value;
}

bool checkCuSeqlens(KernelContext &ctx, const Tensor &cu, int64_t tokens) {
  if (!isIndex(cu) || cu.rank() != 1 || cu.numElements() < 1 || integerAt(cu, 0) != 0 ||
      integerAt(cu, cu.numElements() - 1) != tokens)
    return ctx.fail("cu_seqlens must run from 0 to the token count " + std::to_string(tokens));
  for (int64_t i = 1; i < cu.numElements(); ++i)
    if (integerAt(cu, i) < integerAt(cu, i - 1))
      return ctx.fail("cu_seqlens decreases at #" + std::to_string(i));
  return true;
}

int64_t rowBytes(const Tensor &t, size_t tokenDims) {
  int64_t width = int64_t(rt::dtypeSize(t.dtype));
  for (size_t d = tokenDims; d < t.shape.size(); ++d)
    width *= t.shape[d];
  return width;
}

bool runUnpad(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  const Tensor &input = *in[0], &lengths = *in[1];
  if (input.rank() < 2 || !isIndex(lengths) || lengths.numElements() != input.shape[0])
    return ctx.fail("input " + describe(input) + " and lengths " + describe(lengths) +
                    " do not fit");
  int64_t batch = input.shape[0], padded = input.shape[1];
  DType cuType = ctx.instruction->results[1].dtype;
  if (cuType != DType::I32 && cuType != DType::I64)
    return ctx.fail("cu_seqlens must be i32 or i64");
  std::vector<int64_t> cu(size_t(batch + 1), 0);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = integerAt(lengths, b);
    if (length < 0 || length > padded)
      return ctx.fail("lengths[" + std::to_string(b) + "] = " + std::to_string(length) +
                      " exceeds the padded length " + std::to_string(padded));
    cu[size_t(b + 1)] = cu[size_t(b)] + length;
  }
  if (!ctx.allocate(0, input.dtype, out[0]) ||
      !ctx.allocate(1, cuType, out[1]))
    return false;
  int64_t width = rowBytes(input, 2);
  for (int64_t b = 0; b < batch; ++b)
    std::memmove(out[0].as<uint8_t>() + cu[size_t(b)] * width,
                 input.as<uint8_t>() + b * padded * width,
                 size_t((cu[size_t(b + 1)] - cu[size_t(b)]) * width));
  for (int64_t b = 0; b <= batch; ++b)
    storeIndex(out[1], b, cu[size_t(b)]);
  return true;
}

bool runPad(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  const Tensor &packed = *in[0], &cu = *in[1];
  if (packed.rank() < 1 || !checkCuSeqlens(ctx, cu, packed.shape[0]))
    return packed.rank() < 1 ? ctx.fail("needs a packed operand") : false;
  // The shape rule has made the padded length fit the longest sequence.
  int64_t batch = cu.numElements() - 1;
  if (!ctx.allocate(0, packed.dtype, out[0]) ||
      !ctx.allocate(1, ctx.instruction->results[1].dtype, out[1]))
    return false;
  if (!isIndex(out[1]))
    return ctx.fail("lengths must be i32 or i64");
  int64_t width = rowBytes(packed, 1), padded = out[0].shape[1];
  std::memset(out[0].data, 0, out[0].numBytes());
  for (int64_t b = 0; b < batch; ++b) {
    int64_t begin = integerAt(cu, b), length = integerAt(cu, b + 1) - begin;
    storeIndex(out[1], b, length);
    std::memcpy(out[0].as<uint8_t>() + b * padded * width,
                packed.as<uint8_t>() + begin * width, size_t(length * width));
  }
  return true;
}

bool runSegmentReduce(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &packed = *in[0], &cu = *in[1];
  if (packed.rank() < 1 || !rt::isFloat(packed.dtype))
    return ctx.fail("needs a packed float operand, not " + describe(packed));
  if (!checkCuSeqlens(ctx, cu, packed.shape[0]))
    return false;
  int64_t segments = cu.numElements() - 1;
  // The width comes from the shape, not from the element count: a batch
  // whose sequences are all empty has no tokens, and its segments must still
  // be written (zeros), or they keep what the arena held before.
  int64_t width = 1;
  for (size_t d = 1; d < packed.shape.size(); ++d)
    width *= packed.shape[d];
  if (!ctx.allocate(0, packed.dtype, result))
    return false;
  int64_t kind = ctx.instruction->ints[ops::slot::segmentReduce::reduction];
  if (kind < 0 || kind > 3)
    return ctx.fail("unknown reduction " + std::to_string(kind));
  FloatInput x(packed);
  FloatOutput out(result);
  const float *src = x.data();
  float *dst = out.data();
  parallelFor(segments, width * 16, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      int64_t first = integerAt(cu, s), last = integerAt(cu, s + 1);
      float *acc = dst + s * width;
      if (first == last) { // an empty sequence gives zeros
        std::fill(acc, acc + width, 0.0f);
        continue;
      }
      std::copy(src + first * width, src + (first + 1) * width, acc);
      if (kind == 3) // first
        continue;
      for (int64_t t = first + 1; t < last; ++t)
        for (int64_t i = 0; i < width; ++i)
          acc[i] = kind == 2 ? std::max(acc[i], src[t * width + i]) : acc[i] + src[t * width + i];
      if (kind == 1)
        for (int64_t i = 0; i < width; ++i)
          acc[i] /= float(last - first);
    }
  });
  out.commit();
  return true;
}

bool runPositions(KernelContext &ctx, const Tensor &cu, Tensor &result) {
  int64_t tokens = isIndex(cu) && cu.numElements() ? integerAt(cu, cu.numElements() - 1) : 0;
  if (!checkCuSeqlens(ctx, cu, tokens) ||
      !ctx.allocate(0, ctx.instruction->results[0].dtype, result))
    return false;
  if (!isIndex(result))
    return ctx.fail("positions must be i32 or i64");
  for (int64_t s = 0; s + 1 < cu.numElements(); ++s)
    for (int64_t t = integerAt(cu, s); t < integerAt(cu, s + 1); ++t)
      storeIndex(result, t, t - integerAt(cu, s));
  return true;
}

} // namespace

bool runSequence(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::Unpad: return runUnpad(ctx, in, out);
  case Opcode::Pad: return runPad(ctx, in, out);
  case Opcode::SegmentReduce: return runSegmentReduce(ctx, in, out[0]);
  case Opcode::Positions: return runPositions(ctx, *in[0], out[0]);
  default: return ctx.fail("is not a sequence op");
  }
}

} // namespace lmc::cpu
