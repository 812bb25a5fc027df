//===- EvalSequenceOps.cpp - evaluating unpad, pad, pooling, positions ----===//

#include "compiler/eval/EvalOps.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"

#include "dialects/lmc/IR/LmcOps.h"


#include <cmath>

namespace mlir::lmc::eval {
namespace {

/// Checks that `cu` runs from 0 up to `tokens` without decreasing.
LogicalResult checkCuSeqlens(Operation *op, const EvalTensor &cu,
                             int64_t tokens) {
  if (cu.integers.empty() || cu.integers.front() != 0 || cu.integers.back() != tokens)
    return op->emitError("cu_seqlens must run from 0 to the token count ") << tokens;
  for (size_t i = 1; i < cu.integers.size(); ++i)
    if (cu.integers[i] < cu.integers[i - 1])
      return op->emitError("cu_seqlens decreases at #") << i;
  return success();
}

// Elements per token: the product of the dimensions after the token's.
int64_t rowWidth(ArrayRef<int64_t> shape, size_t tokenDims) {
  int64_t width = 1;
  for (size_t d = tokenDims; d < shape.size(); ++d)
    width *= shape[d];
  return width;
}

void copyRow(const EvalTensor &from, int64_t fromRow, EvalTensor &to,
             int64_t toRow, int64_t width) {
  for (int64_t i = 0; i < width; ++i) {
    if (to.isInteger())
      to.integers[size_t(toRow * width + i)] = from.integers[size_t(fromRow * width + i)];
    else
      to.reals[size_t(toRow * width + i)] = from.reals[size_t(fromRow * width + i)];
  }
}

LogicalResult evalUnpad(UnpadOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  const EvalTensor &lengths = frame.get(op.getLengths());
  int64_t batch = input.shape[0], padded = input.shape[1];
  int64_t width = rowWidth(input.shape, 2);
  EvalTensor cu = EvalTensor::zeros({batch + 1}, op.getCuSeqlens().getType().getElementType());
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = lengths.integers[size_t(b)];
    if (length < 0 || length > padded)
      return op.emitError("lengths[") << b << "] = " << length
                                      << " exceeds the padded length " << padded;
    cu.integers[size_t(b + 1)] = cu.integers[size_t(b)] + length;
  }
  SmallVector<int64_t> shape{cu.integers.back()};
  shape.append(input.shape.begin() + 2, input.shape.end());
  EvalTensor packed = EvalTensor::zeros(shape, input.elementType);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < lengths.integers[size_t(b)]; ++t)
      copyRow(input, b * padded + t, packed, cu.integers[size_t(b)] + t, width);
  if (failed(frame.set(op, op.getPacked(), std::move(packed))))
    return failure();
  return frame.set(op, op.getCuSeqlens(), std::move(cu));
}

LogicalResult evalPad(PadOp op, EvalFrame &frame) {
  const EvalTensor &packed = frame.get(op.getPacked());
  const EvalTensor &cu = frame.get(op.getCuSeqlens());
  if (failed(checkCuSeqlens(op, cu, packed.shape[0])))
    return failure();
  int64_t batch = int64_t(cu.integers.size()) - 1, longest = 0;
  for (int64_t b = 0; b < batch; ++b)
    longest = std::max(longest, cu.integers[size_t(b + 1)] - cu.integers[size_t(b)]);
  int64_t padded = op.getResult().getType().getDimSize(1);
  if (ShapedType::isDynamic(padded))
    padded = longest;
  else if (longest > padded)
    return op.emitError("a sequence of ") << longest
                                          << " tokens does not fit the padded length "
                                          << padded;
  SmallVector<int64_t> shape{batch, padded};
  shape.append(packed.shape.begin() + 1, packed.shape.end());
  EvalTensor result = EvalTensor::zeros(shape, packed.elementType);
  EvalTensor lengths = EvalTensor::zeros({batch}, op.getLengths().getType().getElementType());
  int64_t width = rowWidth(packed.shape, 1);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t begin = cu.integers[size_t(b)], length = cu.integers[size_t(b + 1)] - begin;
    lengths.integers[size_t(b)] = length;
    for (int64_t t = 0; t < length; ++t)
      copyRow(packed, begin + t, result, b * padded + t, width);
  }
  if (failed(frame.set(op, op.getResult(), std::move(result))))
    return failure();
  return frame.set(op, op.getLengths(), std::move(lengths));
}

LogicalResult evalSegmentReduce(SegmentReduceOp op, EvalFrame &frame) {
  const EvalTensor &packed = frame.get(op.getPacked());
  const EvalTensor &cu = frame.get(op.getCuSeqlens());
  if (failed(checkCuSeqlens(op, cu, packed.shape[0])))
    return failure();
  int64_t segments = int64_t(cu.integers.size()) - 1;
  int64_t width = rowWidth(packed.shape, 1);
  SmallVector<int64_t> shape{segments};
  shape.append(packed.shape.begin() + 1, packed.shape.end());
  EvalTensor out = EvalTensor::zeros(shape, packed.elementType);
  SegmentReduction kind = op.getReduction();
  for (int64_t s = 0; s < segments; ++s) {
    int64_t begin = cu.integers[size_t(s)], end = cu.integers[size_t(s + 1)];
    if (begin == end)
      continue; // an empty sequence gives zeros
    for (int64_t i = 0; i < width; ++i) {
      double acc = kind == SegmentReduction::max ? -INFINITY : 0;
      for (int64_t t = begin; t < end; ++t) {
        double value = packed.real(t * width + i);
        if (kind == SegmentReduction::max)
          acc = std::max(acc, value);
        else if (kind == SegmentReduction::first)
          acc = t == begin ? value : acc;
        else
          acc += value;
      }
      if (kind == SegmentReduction::mean)
        acc /= double(end - begin);
      if (out.isInteger())
        out.integers[size_t(s * width + i)] = int64_t(acc);
      else
        out.reals[size_t(s * width + i)] = acc;
    }
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalPositions(PositionsOp op, EvalFrame &frame) {
  const EvalTensor &cu = frame.get(op.getCuSeqlens());
  int64_t tokens = cu.integers.empty() ? 0 : cu.integers.back();
  if (failed(checkCuSeqlens(op, cu, tokens)))
    return failure();
  EvalTensor out = EvalTensor::zeros({tokens}, op.getType().getElementType());
  for (size_t s = 0; s + 1 < cu.integers.size(); ++s)
    for (int64_t t = cu.integers[s]; t < cu.integers[s + 1]; ++t)
      out.integers[size_t(t)] = t - cu.integers[s];
  return frame.set(op, op.getResult(), std::move(out));
}

} // namespace

std::optional<LogicalResult> evaluateSequenceOp(Operation *op, EvalFrame &frame) {
  return OpRuleSwitch(op, frame.probing)
      .Case([&](UnpadOp unpad) { return evalUnpad(unpad, frame); })
      .Case([&](PadOp pad) { return evalPad(pad, frame); })
      .Case([&](SegmentReduceOp reduce) { return evalSegmentReduce(reduce, frame); })
      .Case([&](PositionsOp positions) { return evalPositions(positions, frame); })
      .Default();
}

} // namespace mlir::lmc::eval
