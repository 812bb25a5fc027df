//===- GradientBuilder.cpp - op constructors and gradient accumulation ----===//

#include "passes/autodiff/GradientBuilder.h"

#include "dialects/lmc/IR/LmcShapeRules.h"

namespace mlir::lmc::autodiff {

namespace {

RankedTensorType withShape(ArrayRef<int64_t> shape, Type element) {
  return RankedTensorType::get(shape, element);
}

/// The broadcast shape of the operands (they verified to broadcast).
SmallVector<int64_t> broadcastOf(ValueRange operands) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (Value operand : operands)
    shapes.emplace_back(shapeOf(operand));
  return *broadcastShapes(shapes);
}

} // namespace

void GradientBuilder::accumulate(Value value, Value gradient) {
  if (!gradient || !isActive(value))
    return;
  RankedTensorType type = typeOf(value);
  gradient = sumToShape(gradient, type);
  if (Value sum = gradients.lookup(value))
    gradient = builder.create<AddOp>(loc(), type, sum, gradient);
  gradients[value] = gradient;
}

LogicalResult GradientBuilder::accumulateRows(Operation *op, Value table,
                                              Value indices, Value rows) {
  if (!isActive(table))
    return success();
  if (!table.getDefiningOp<ParamLoadOp>())
    return op->emitError("lmc-autodiff: the gradient of a gathered table is "
                         "kept as sparse rows, so the table must be a "
                         "parameter read by lmc.param_load");
  sparse[table].push_back({indices, rows});
  return success();
}

Value GradientBuilder::binary(OperationName name, Value lhs, Value rhs) {
  OperationState state(loc(), name);
  state.addOperands({lhs, rhs});
  state.addTypes(withShape(broadcastOf({lhs, rhs}), typeOf(lhs).getElementType()));
  return builder.create(state)->getResult(0);
}

Value GradientBuilder::add(Value lhs, Value rhs) {
  return binary(OperationName(AddOp::getOperationName(), builder.getContext()), lhs, rhs);
}
Value GradientBuilder::sub(Value lhs, Value rhs) {
  return binary(OperationName(SubOp::getOperationName(), builder.getContext()), lhs, rhs);
}
Value GradientBuilder::mul(Value lhs, Value rhs) {
  return binary(OperationName(MulOp::getOperationName(), builder.getContext()), lhs, rhs);
}
Value GradientBuilder::div(Value lhs, Value rhs) {
  return binary(OperationName(DivOp::getOperationName(), builder.getContext()), lhs, rhs);
}
Value GradientBuilder::max(Value lhs, Value rhs) {
  return binary(OperationName(MaxOp::getOperationName(), builder.getContext()), lhs, rhs);
}
Value GradientBuilder::neg(Value x) { return builder.create<NegOp>(loc(), x); }
Value GradientBuilder::exp(Value x) { return builder.create<ExpOp>(loc(), x); }
Value GradientBuilder::tanh(Value x) { return builder.create<TanhOp>(loc(), x); }
Value GradientBuilder::erf(Value x) { return builder.create<ErfOp>(loc(), x); }
Value GradientBuilder::rsqrt(Value x) { return builder.create<RsqrtOp>(loc(), x); }
Value GradientBuilder::sqrt(Value x) { return builder.create<SqrtOp>(loc(), x); }

Value GradientBuilder::compare(ComparePredicate predicate, Value lhs, Value rhs) {
  return builder.create<CompareOp>(loc(), withShape(broadcastOf({lhs, rhs}), builder.getI1Type()),
                                   predicate, lhs, rhs);
}

Value GradientBuilder::select(Value condition, Value onTrue, Value onFalse) {
  return builder.create<SelectOp>(
      loc(), withShape(broadcastOf({condition, onTrue, onFalse}), typeOf(onTrue).getElementType()),
      condition, onTrue, onFalse);
}

Value GradientBuilder::scalar(double value, Type elementType) {
  auto type = withShape({}, elementType);
  Attribute element = llvm::isa<FloatType>(elementType)
                          ? Attribute(builder.getFloatAttr(elementType, value))
                          : Attribute(builder.getIntegerAttr(elementType, int64_t(value)));
  return builder.create<ConstantOp>(loc(), DenseElementsAttr::get(type, element));
}

Value GradientBuilder::zeros(RankedTensorType type) {
  return builder.create<ConstantOp>(
      loc(), DenseElementsAttr::get(type, builder.getFloatAttr(type.getElementType(), 0.0)));
}

Value GradientBuilder::cast(Value x, Type elementType) {
  if (typeOf(x).getElementType() == elementType)
    return x;
  return builder.create<CastOp>(loc(), withShape(shapeOf(x), elementType), x);
}

Value GradientBuilder::reshape(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return builder.create<ReshapeOp>(loc(), type, x);
}

Value GradientBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  SmallVector<int64_t> shape;
  for (int64_t axis : permutation)
    shape.push_back(shapeOf(x)[size_t(axis)]);
  return builder.create<TransposeOp>(loc(), withShape(shape, typeOf(x).getElementType()), x,
                                     builder.getDenseI64ArrayAttr(permutation));
}

Value GradientBuilder::matmul(Value lhs, Value rhs, bool transposeLhs, bool transposeRhs) {
  ArrayRef<int64_t> a = shapeOf(lhs), b = shapeOf(rhs);
  SmallVector<int64_t> shape(a.drop_back(2));
  shape.push_back(a[a.size() - (transposeLhs ? 1 : 2)]);
  shape.push_back(b[b.size() - (transposeRhs ? 2 : 1)]);
  return builder.create<MatmulOp>(loc(), withShape(shape, typeOf(lhs).getElementType()),
                                  lhs, rhs, transposeLhs, transposeRhs);
}

Value GradientBuilder::reduceSum(Value x, int64_t axis, bool keepDims) {
  SmallVector<int64_t> shape(shapeOf(x));
  if (keepDims)
    shape[size_t(axis)] = 1;
  else
    shape.erase(shape.begin() + axis);
  return builder.create<ReduceSumOp>(loc(), withShape(shape, typeOf(x).getElementType()), x,
                                     axis, keepDims);
}

Value GradientBuilder::broadcastLike(Value x, Value like) {
  // Equal dynamic sizes may still differ at run time; equal static ones not.
  if (shapeOf(x) == shapeOf(like) && typeOf(like).hasStaticShape())
    return x;
  return builder.create<BroadcastLikeOp>(
      loc(), withShape(shapeOf(like), typeOf(x).getElementType()), x, like);
}

Value GradientBuilder::expandDim(Value x, int64_t axis) {
  SmallVector<int64_t> shape(shapeOf(x));
  shape.insert(shape.begin() + axis, 1);
  return reshape(x, withShape(shape, typeOf(x).getElementType()));
}

Value GradientBuilder::sumToShape(Value gradient, RankedTensorType type) {
  ArrayRef<int64_t> target = type.getShape();
  // Leading dimensions the target lacks were added by broadcasting.
  while (shapeOf(gradient).size() > target.size())
    gradient = reduceSum(gradient, 0, /*keepDims=*/false);
  // A size-1 target dimension may have been stretched.
  for (auto [axis, size] : llvm::enumerate(target))
    if (size == 1 && shapeOf(gradient)[axis] != 1)
      gradient = reduceSum(gradient, int64_t(axis), /*keepDims=*/true);
  return gradient;
}

} // namespace mlir::lmc::autodiff
