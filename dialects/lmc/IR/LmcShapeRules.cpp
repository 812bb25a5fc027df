//===- LmcShapeRules.cpp - shape checks shared by lmc verifiers -----------===//

#include "dialects/lmc/IR/LmcShapeRules.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace mlir::lmc {

bool areDimsCompatible(int64_t lhs, int64_t rhs) {
  return ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs) ||
         lhs == rhs;
}

bool areShapesCompatible(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip_equal(lhs, rhs))
    if (!areDimsCompatible(l, r))
      return false;
  return true;
}

std::string formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "[]";
  std::string text;
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += 'x';
    text += ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
  }
  return text;
}

// Combines two aligned dimensions; std::nullopt when they conflict.
static std::optional<int64_t> broadcastDim(int64_t lhs, int64_t rhs) {
  if (lhs == 1)
    return rhs;
  if (rhs == 1)
    return lhs;
  if (ShapedType::isDynamic(lhs))
    return rhs;
  if (ShapedType::isDynamic(rhs) || lhs == rhs)
    return lhs;
  return std::nullopt;
}

std::optional<SmallVector<int64_t>>
broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes) {
  size_t rank = 0;
  for (const auto &shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (const auto &shape : shapes) {
    size_t offset = rank - shape.size();
    for (auto [i, dim] : llvm::enumerate(shape)) {
      std::optional<int64_t> combined = broadcastDim(result[offset + i], dim);
      if (!combined)
        return std::nullopt;
      result[offset + i] = *combined;
    }
  }
  return result;
}

LogicalResult verifyAxisInRange(Operation *op, int64_t axis, int64_t rank,
                                StringRef what) {
  if (axis >= 0 && axis < rank)
    return success();
  return op->emitOpError() << what << " " << axis << " is out of range [0, "
                           << rank << ")";
}

LogicalResult verifyShapeCompatible(Operation *op, StringRef what,
                                    ArrayRef<int64_t> actual,
                                    ArrayRef<int64_t> expected) {
  if (areShapesCompatible(actual, expected))
    return success();
  return op->emitOpError() << what << " shape " << formatShape(actual)
                           << " is not compatible with the expected "
                           << formatShape(expected);
}

LogicalResult verifyBroadcastResult(Operation *op, TypeRange operands,
                                    ShapedType result) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (Type type : operands)
    shapes.emplace_back(llvm::cast<ShapedType>(type).getShape());
  std::optional<SmallVector<int64_t>> broadcast = broadcastShapes(shapes);
  if (!broadcast) {
    InFlightDiagnostic diag = op->emitOpError("operand shapes ");
    for (auto [i, shape] : llvm::enumerate(shapes))
      diag << (i ? ", " : "") << formatShape(shape);
    return diag << " do not broadcast";
  }
  return verifyShapeCompatible(op, "result", result.getShape(), *broadcast);
}

LogicalResult verifyCuSeqlensNotEmpty(Operation *op, Value cuSeqlens) {
  if (llvm::cast<ShapedType>(cuSeqlens.getType()).getDimSize(0) != 0)
    return success();
  return op->emitOpError("cu_seqlens must not be empty: it holds N + 1 "
                         "offsets for N sequences");
}

LogicalResult verifySameElementType(Operation *op, StringRef what,
                                    TypeRange types) {
  Type expected = llvm::cast<ShapedType>(types.front()).getElementType();
  for (Type type : types.drop_front()) {
    Type element = llvm::cast<ShapedType>(type).getElementType();
    if (element != expected)
      return op->emitOpError() << what << " must share one element type, got "
                               << expected << " and " << element;
  }
  return success();
}

} // namespace mlir::lmc
