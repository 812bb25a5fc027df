//===- GradientBuilder.h - what gradient rules build with --------*- C++ -*-===//
//
// Internal to --lmc-autodiff. The pass walks a function's ops backwards and
// asks each op's rule (one function per op family, like the evaluator's) to
// turn the gradients of its results into gradients of its operands. Rules
// build lmc ops through this class, which also accumulates the gradients:
// dense ones per SSA value, row-sparse ones per embedding table.
// --lmc-attach-loss builds its losses with the same op constructors.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_PASSES_AUTODIFF_GRADIENTBUILDER_H
#define LMC_PASSES_AUTODIFF_GRADIENTBUILDER_H

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::lmc::autodiff {

/// One row-sparse contribution to a table's gradient: row `indices[i...]`
/// of the table gets `rows[i..., :]` added (ids outside the table are
/// dropped, as the forward gather gave them zeros).
struct SparseRows {
  Value indices, rows;
};

class GradientBuilder {
public:
  GradientBuilder(OpBuilder &builder, llvm::DenseSet<Value> active)
      : builder(builder), active(std::move(active)) {}

  /// Only ask whether the families have a rule for an op (OpRuleSwitch).
  bool probing = false;

  /// True when `value` depends on a parameter and the loss depends on it:
  /// only such values get gradients.
  bool isActive(Value value) const { return active.contains(value); }

  /// The gradient accumulated for `value`, or null when none reached it.
  Value gradientOf(Value value) const { return gradients.lookup(value); }

  /// Adds `gradient` to `value`'s; `gradient` may have a shape that
  /// broadcasts from `value`'s (an elementwise op's result shape), and is
  /// summed down to it. Inactive values are skipped.
  void accumulate(Value value, Value gradient);

  /// Records rows of the gradient of `table`, which must be read by an
  /// lmc.param_load (tables are never materialized densely).
  LogicalResult accumulateRows(Operation *op, Value table, Value indices,
                               Value rows);

  /// Row-sparse gradients per table, in the order they were recorded.
  const llvm::MapVector<Value, SmallVector<SparseRows>> &sparseGradients() const {
    return sparse;
  }

  /// Where new ops go and which location they get.
  OpBuilder &builder;
  Location loc() const { return *location; }
  void setLoc(Location where) { location = where; }

  // Op constructors. Elementwise results get the operands' broadcast
  // shape, with static sizes wherever an operand knows them.
  Value add(Value lhs, Value rhs);
  Value sub(Value lhs, Value rhs);
  Value mul(Value lhs, Value rhs);
  Value div(Value lhs, Value rhs);
  Value max(Value lhs, Value rhs);
  Value neg(Value x);
  Value exp(Value x);
  Value tanh(Value x);
  Value erf(Value x);
  Value rsqrt(Value x);
  Value sqrt(Value x);
  Value compare(ComparePredicate predicate, Value lhs, Value rhs);
  Value select(Value condition, Value onTrue, Value onFalse);
  /// A scalar constant of `elementType` (broadcasts against anything).
  Value scalar(double value, Type elementType);
  /// A zero-filled constant of a static `type`.
  Value zeros(RankedTensorType type);
  Value cast(Value x, Type elementType);
  Value reshape(Value x, RankedTensorType type);
  Value transpose(Value x, ArrayRef<int64_t> permutation);
  Value matmul(Value lhs, Value rhs, bool transposeLhs, bool transposeRhs);
  Value reduceSum(Value x, int64_t axis, bool keepDims);
  Value broadcastLike(Value x, Value like);
  /// `x` with a size-1 dimension inserted at `axis` (the shape a reduction
  /// without keep_dims removed).
  Value expandDim(Value x, int64_t axis);
  /// Sums the broadcast dimensions of `gradient` away so it has `type`'s
  /// shape (NumPy broadcasting in reverse).
  Value sumToShape(Value gradient, RankedTensorType type);

private:
  Value binary(OperationName name, Value lhs, Value rhs);

  std::optional<Location> location;
  llvm::DenseSet<Value> active;
  llvm::DenseMap<Value, Value> gradients;
  llvm::MapVector<Value, SmallVector<SparseRows>> sparse;
};

/// Adds the gradients of `op`'s operands, given those of its results
/// (null for a result no gradient reached). Returns std::nullopt when `op`
/// is not of the family; a failure has been reported at the op.
std::optional<LogicalResult> differentiatePrimitiveOp(Operation *op,
                                                      ArrayRef<Value> resultGradients,
                                                      GradientBuilder &gb);
std::optional<LogicalResult> differentiateCompositeOp(Operation *op,
                                                      ArrayRef<Value> resultGradients,
                                                      GradientBuilder &gb);
std::optional<LogicalResult> differentiateSequenceOp(Operation *op,
                                                     ArrayRef<Value> resultGradients,
                                                     GradientBuilder &gb);

/// Whether a family has a gradient rule for `op`'s kind (without running
/// it: `op` may be a bare instance without operands).
bool hasGradientRule(Operation *op);

/// The static or dynamic shape of a ranked tensor value.
inline ArrayRef<int64_t> shapeOf(Value value) {
  return llvm::cast<RankedTensorType>(value.getType()).getShape();
}
inline RankedTensorType typeOf(Value value) {
  return llvm::cast<RankedTensorType>(value.getType());
}

} // namespace mlir::lmc::autodiff

#endif // LMC_PASSES_AUTODIFF_GRADIENTBUILDER_H
