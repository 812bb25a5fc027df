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

// The operand checks lmc.attention and lmc.attention_grad share; returns the
// attention result's expected shape.
static FailureOr<SmallVector<int64_t>>
verifyAttentionOperands(Operation *op, ShapedType query, ShapedType key,
                        ShapedType value, Value lengths, Value cuSeqlens,
                        std::optional<APFloat> scale) {
  int64_t rank = query.getRank();
  if (rank != 3 && rank != 4)
    return op->emitOpError("query must have rank 4 (padded [B, S, H, D]) or 3 "
                           "(packed [T, H, D]), got ")
           << rank;
  if (key.getRank() != rank || value.getRank() != rank)
    return op->emitOpError("key and value must have the query's rank ")
           << rank << ", got " << key.getRank() << " and " << value.getRank();
  bool packed = rank == 3;
  if (packed && !cuSeqlens)
    return op->emitOpError("the packed form needs cu_seqlens");
  if (packed && lengths)
    return op->emitOpError("the packed form takes cu_seqlens, not lengths");
  if (!packed && cuSeqlens)
    return op->emitOpError("the padded form takes lengths, not cu_seqlens");
  if (packed && failed(verifyCuSeqlensNotEmpty(op, cuSeqlens)))
    return failure();

  ArrayRef<int64_t> q = query.getShape(), k = key.getShape(),
                    v = value.getShape();
  if (!areDimsCompatible(q.back(), k.back()))
    return op->emitOpError("query head dimension ")
           << q.back() << " and key head dimension " << k.back()
           << " are not compatible";
  if (!areShapesCompatible(k.drop_back(), v.drop_back()))
    return op->emitOpError("key shape ")
           << formatShape(k) << " and value shape " << formatShape(v)
           << " differ outside the head dimension";
  if (!areDimsCompatible(q[0], k[0]))
    return op->emitOpError(packed ? "query and key token counts "
                                  : "query and key batch sizes ")
           << q[0] << " and " << k[0] << " are not compatible";
  if (lengths)
    if (failed(verifyShapeCompatible(
            op, "lengths", llvm::cast<ShapedType>(lengths.getType()).getShape(),
            {q[0]})))
      return failure();

  int64_t heads = q[rank - 2], keyHeads = k[rank - 2];
  if (!ShapedType::isDynamic(heads) && !ShapedType::isDynamic(keyHeads) &&
      (keyHeads == 0 || heads % keyHeads != 0))
    return op->emitOpError("key head count ")
           << keyHeads << " does not divide the query head count " << heads;
  if (scale && !(scale->convertToFloat() > 0))
    return op->emitOpError("scale must be positive, got ")
           << scale->convertToFloat();
  SmallVector<int64_t> expected(q);
  expected.back() = v.back();
  return expected;
}

LogicalResult AttentionOp::verify() {
  FailureOr<SmallVector<int64_t>> expected = verifyAttentionOperands(
      *this, getQuery().getType(), getKey().getType(), getValue().getType(),
      getLengths(), getCuSeqlens(), getScale());
  if (failed(expected) ||
      failed(verifySameElementType(*this, "query, key, value and result",
                                   {getQuery().getType(), getKey().getType(),
                                    getValue().getType(), getResult().getType()})) ||
      failed(verifyShapeCompatible(*this, "result",
                                   getResult().getType().getShape(), *expected)))
    return failure();
  if (Value lse = getLse())
    return verifyShapeCompatible(*this, "lse",
                                 llvm::cast<ShapedType>(lse.getType()).getShape(),
                                 getQuery().getType().getShape().drop_back());
  return success();
}

LogicalResult AttentionGradOp::verify() {
  FailureOr<SmallVector<int64_t>> expected = verifyAttentionOperands(
      *this, getQuery().getType(), getKey().getType(), getValue().getType(),
      getLengths(), getCuSeqlens(), getScale());
  if (failed(expected) ||
      failed(verifySameElementType(
          *this, "query, key, value, out and grad_out",
          {getQuery().getType(), getKey().getType(), getValue().getType(),
           getOut().getType(), getGradOut().getType()})) ||
      failed(verifyShapeCompatible(*this, "out", getOut().getType().getShape(),
                                   *expected)) ||
      failed(verifyShapeCompatible(*this, "grad_out",
                                   getGradOut().getType().getShape(), *expected)) ||
      failed(verifyShapeCompatible(*this, "lse", getLse().getType().getShape(),
                                   getQuery().getType().getShape().drop_back())))
    return failure();
  for (auto [name, gradient, operand] :
       {std::tuple<StringRef, Value, Value>{"grad_query", getGradQuery(), getQuery()},
        {"grad_key", getGradKey(), getKey()},
        {"grad_value", getGradValue(), getValue()}})
    if (gradient.getType() != operand.getType())
      return emitOpError() << name << " type " << gradient.getType()
                           << " must equal the operand type " << operand.getType();
  return success();
}
