//===- LmcSequenceOps.cpp - verifiers and folders of sequence ops ---------===//

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

using namespace mlir;
using namespace mlir::lmc;

// The number of sequences N of a `cu_seqlens` of shape [N + 1].
static int64_t sequenceCount(Value cuSeqlens) {
  int64_t size = llvm::cast<ShapedType>(cuSeqlens.getType()).getDimSize(0);
  return ShapedType::isDynamic(size) ? size : size - 1;
}

// `cu_seqlens` for `batch` sequences has `batch + 1` entries.
static int64_t cuSeqlensSize(int64_t batch) {
  return ShapedType::isDynamic(batch) ? batch : batch + 1;
}

LogicalResult UnpadOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  if (input.size() < 2)
    return emitOpError("input must have rank 2 or more ([B, S, ...]), got ")
           << input.size();
  int64_t batch = input[0];
  if (failed(verifyShapeCompatible(*this, "lengths",
                                   getLengths().getType().getShape(), {batch})))
    return failure();
  if (failed(verifyShapeCompatible(*this, "cu_seqlens",
                                   getCuSeqlens().getType().getShape(),
                                   {cuSeqlensSize(batch)})) ||
      failed(verifyCuSeqlensNotEmpty(*this, getCuSeqlens())))
    return failure();
  if (failed(verifySameElementType(*this, "input and packed",
                                   {getInput().getType(), getPacked().getType()})))
    return failure();
  SmallVector<int64_t> expected{ShapedType::kDynamic};
  llvm::append_range(expected, input.drop_front(2));
  return verifyShapeCompatible(*this, "packed",
                               getPacked().getType().getShape(), expected);
}

// unpad(pad(p, cu)) => p, cu
LogicalResult UnpadOp::fold(FoldAdaptor,
                            SmallVectorImpl<OpFoldResult> &results) {
  auto pad = getInput().getDefiningOp<PadOp>();
  if (!pad || getLengths() != pad.getLengths() ||
      pad.getPacked().getType() != getPacked().getType() ||
      pad.getCuSeqlens().getType() != getCuSeqlens().getType())
    return failure();
  results.push_back(pad.getPacked());
  results.push_back(pad.getCuSeqlens());
  return success();
}

LogicalResult PadOp::verify() {
  ArrayRef<int64_t> packed = getPacked().getType().getShape();
  ArrayRef<int64_t> result = getResult().getType().getShape();
  if (packed.empty())
    return emitOpError("packed must have rank 1 or more");
  if (failed(verifyCuSeqlensNotEmpty(*this, getCuSeqlens())))
    return failure();
  if (failed(verifySameElementType(*this, "packed and result",
                                   {getPacked().getType(), getResult().getType()})))
    return failure();
  if (result.size() != packed.size() + 1)
    return emitOpError("result must have rank ")
           << packed.size() + 1 << " ([B, S, ...]), got " << result.size();
  int64_t batch = sequenceCount(getCuSeqlens());
  if (failed(verifyShapeCompatible(*this, "lengths",
                                   getLengths().getType().getShape(), {batch})))
    return failure();
  int64_t padded = result[1];
  if (!ShapedType::isDynamic(padded) && padded <= 0)
    return emitOpError("padded length S must be positive, got ") << padded;
  SmallVector<int64_t> expected{batch, padded};
  llvm::append_range(expected, packed.drop_front());
  return verifyShapeCompatible(*this, "result", result, expected);
}

LogicalResult SegmentReduceOp::verify() {
  ArrayRef<int64_t> packed = getPacked().getType().getShape();
  if (packed.empty())
    return emitOpError("packed must have rank 1 or more");
  if (failed(verifyCuSeqlensNotEmpty(*this, getCuSeqlens())))
    return failure();
  if (getReduction() == SegmentReduction::mean &&
      !llvm::isa<FloatType>(getPacked().getType().getElementType()))
    return emitOpError("mean needs a float element type, got ")
           << getPacked().getType().getElementType();
  if (failed(verifySameElementType(*this, "packed and result",
                                   {getPacked().getType(), getType()})))
    return failure();
  SmallVector<int64_t> expected{sequenceCount(getCuSeqlens())};
  llvm::append_range(expected, packed.drop_front());
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

LogicalResult PositionsOp::verify() {
  return verifyCuSeqlensNotEmpty(*this, getCuSeqlens());
}
