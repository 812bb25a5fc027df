//===- LmcShapeRules.h - shape checks shared by lmc verifiers ---*- C++ -*-===//
//
// Dynamic dimensions are checked at run time, so every static check here
// treats a dynamic dimension as compatible with anything.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECTS_LMC_IR_LMCSHAPERULES_H
#define LMC_DIALECTS_LMC_IR_LMCSHAPERULES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mlir::lmc {

/// Equal, or at least one of them dynamic.
bool areDimsCompatible(int64_t lhs, int64_t rhs);

/// Same rank and pairwise compatible dimensions.
bool areShapesCompatible(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs);

/// Renders a shape as `?x128x4`, `[]` for a scalar, for diagnostics.
std::string formatShape(ArrayRef<int64_t> shape);

/// The NumPy-style broadcast of `shapes` (see the dialect description), or
/// std::nullopt when two aligned static dimensions differ and neither is 1.
std::optional<SmallVector<int64_t>>
broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes);

/// Emits "`what` N is out of range [0, rank)" unless 0 <= axis < rank.
LogicalResult verifyAxisInRange(Operation *op, int64_t axis, int64_t rank,
                                StringRef what = "axis");

/// Emits an error naming both shapes unless `actual` is compatible with
/// `expected`. `what` names the checked value ("result", "lengths", ...).
LogicalResult verifyShapeCompatible(Operation *op, StringRef what,
                                    ArrayRef<int64_t> actual,
                                    ArrayRef<int64_t> expected);

/// The shared checks of elementwise ops: `operands` broadcast, and `result`
/// is compatible with their broadcast shape.
LogicalResult verifyBroadcastResult(Operation *op, TypeRange operands,
                                    ShapedType result);

/// Emits an error when `cuSeqlens` has a static size of 0: even an empty
/// batch has the leading 0 of its N + 1 offsets.
LogicalResult verifyCuSeqlensNotEmpty(Operation *op, Value cuSeqlens);

/// Emits an error unless every type in `types` has the element type of the
/// first one. `what` names the group ("operands and result", ...).
LogicalResult verifySameElementType(Operation *op, StringRef what,
                                    TypeRange types);

} // namespace mlir::lmc

#endif // LMC_DIALECTS_LMC_IR_LMCSHAPERULES_H
