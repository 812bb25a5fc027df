//===- LengthMasks.cpp - recognizing masks built from lengths -------------===//

#include "passes/LengthMasks.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/Matchers.h"

namespace mlir::lmc {

Value matchLengthsMask(Value valid, int64_t rank, int64_t axis) {
  auto compare = valid.getDefiningOp<CompareOp>();
  if (!compare || compare.getPredicate() != ComparePredicate::lt)
    return Value();
  DenseElementsAttr iota;
  if (!matchPattern(compare.getLhs(), m_Constant(&iota)))
    return Value();
  // Right-aligned against the rank-`rank` result, `axis` is this index.
  ArrayRef<int64_t> shape = iota.getType().getShape();
  int64_t positions = int64_t(shape.size()) - (rank - axis);
  if (positions < 0)
    return Value();
  for (auto [d, dim] : llvm::enumerate(shape))
    if (int64_t(d) != positions && dim != 1)
      return Value();
  for (auto [i, value] : llvm::enumerate(iota.getValues<APInt>()))
    if (value.getSExtValue() != int64_t(i))
      return Value();
  auto reshape = compare.getRhs().getDefiningOp<ReshapeOp>();
  if (!reshape || reshape.getInput().getType().getRank() != 1)
    return Value();
  ArrayRef<int64_t> lengthsShape = reshape.getType().getShape();
  if (int64_t(lengthsShape.size()) != rank ||
      llvm::any_of(lengthsShape.drop_front(), [](int64_t d) { return d != 1; }))
    return Value();
  return reshape.getInput();
}

} // namespace mlir::lmc
