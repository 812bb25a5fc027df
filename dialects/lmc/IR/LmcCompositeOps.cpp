//===- LmcCompositeOps.cpp - verifiers of normalization and attention -----===//

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

using namespace mlir;
using namespace mlir::lmc;

// The checks layer_norm and rms_norm share: per-feature `scales` ([D]),
// one element type, the input's type for the result, a positive epsilon.
static LogicalResult verifyNormalization(Operation *op, ShapedType input,
                                         ArrayRef<Value> scales,
                                         ShapedType result, float epsilon) {
  if (input.getRank() < 1)
    return op->emitOpError("input must have rank 1 or more");
  int64_t features = input.getShape().back();
  SmallVector<Type> types{input, result};
  for (Value scale : scales)
    types.push_back(scale.getType());
  if (failed(verifySameElementType(op, "operands and result", types)))
    return failure();
  for (auto [i, scale] : llvm::enumerate(scales))
    if (failed(verifyShapeCompatible(
            op, i == 0 ? "gamma" : "beta",
            llvm::cast<ShapedType>(scale.getType()).getShape(), {features})))
      return failure();
  if (result != input)
    return op->emitOpError("result type ")
           << result << " must equal the input type " << input;
  if (!(epsilon > 0))
    return op->emitOpError("epsilon must be positive, got ") << epsilon;
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyNormalization(*this, getInput().getType(),
                             {getGamma(), getBeta()}, getType(),
                             getEpsilon().convertToFloat());
}

LogicalResult RmsNormOp::verify() {
  return verifyNormalization(*this, getInput().getType(), {getGamma()},
                             getType(), getEpsilon().convertToFloat());
}

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType();
  if (table.getRank() != 2)
    return emitOpError("table must have rank 2 ([V, D]), got ")
           << table.getRank();
  if (failed(verifySameElementType(*this, "table and result",
                                   {table, getType()})))
    return failure();
  SmallVector<int64_t> expected(getIds().getType().getShape());
  expected.push_back(table.getDimSize(1));
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

LogicalResult AttentionOp::verify() {
  ShapedType query = getQuery().getType(), key = getKey().getType(),
             value = getValue().getType();
  int64_t rank = query.getRank();
  if (rank != 3 && rank != 4)
    return emitOpError("query must have rank 4 (padded [B, S, H, D]) or 3 "
                       "(packed [T, H, D]), got ")
           << rank;
  if (key.getRank() != rank || value.getRank() != rank)
    return emitOpError("key and value must have the query's rank ")
           << rank << ", got " << key.getRank() << " and " << value.getRank();
  bool packed = isPacked();
  if (packed && !getCuSeqlens())
    return emitOpError("the packed form needs cu_seqlens");
  if (packed && getLengths())
    return emitOpError("the packed form takes cu_seqlens, not lengths");
  if (!packed && getCuSeqlens())
    return emitOpError("the padded form takes lengths, not cu_seqlens");
  if (packed && failed(verifyCuSeqlensNotEmpty(*this, getCuSeqlens())))
    return failure();
  if (failed(verifySameElementType(*this, "query, key, value and result",
                                   {query, key, value, getType()})))
    return failure();

  ArrayRef<int64_t> q = query.getShape(), k = key.getShape(),
                    v = value.getShape();
  if (!areDimsCompatible(q.back(), k.back()))
    return emitOpError("query head dimension ")
           << q.back() << " and key head dimension " << k.back()
           << " are not compatible";
  if (!areShapesCompatible(k.drop_back(), v.drop_back()))
    return emitOpError("key shape ")
           << formatShape(k) << " and value shape " << formatShape(v)
           << " differ outside the head dimension";
  if (!areDimsCompatible(q[0], k[0]))
    return emitOpError(packed ? "query and key token counts "
                              : "query and key batch sizes ")
           << q[0] << " and " << k[0] << " are not compatible";
  if (Value lengths = getLengths())
    if (failed(verifyShapeCompatible(
            *this, "lengths",
            llvm::cast<ShapedType>(lengths.getType()).getShape(), {q[0]})))
      return failure();

  int64_t heads = q[rank - 2], keyHeads = k[rank - 2];
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(keyHeads) &&
      (keyHeads == 0 || heads % keyHeads != 0))
    return emitOpError("key head count ")
           << keyHeads << " does not divide the query head count " << heads;
  if (std::optional<APFloat> scale = getScale())
    if (!(scale->convertToFloat() > 0))
      return emitOpError("scale must be positive, got ")
             << scale->convertToFloat();

  SmallVector<int64_t> expected(q);
  expected.back() = v.back();
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}
