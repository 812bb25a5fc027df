//===- LmcPrimitiveOps.cpp - verifiers and folders of primitive ops -------===//

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

using namespace mlir;
using namespace mlir::lmc;

//===----------------------------------------------------------------------===//
// Parameters and constants
//===----------------------------------------------------------------------===//

// The f64 fields each initializer kind takes, and which of them it needs.
static std::optional<std::pair<SmallVector<StringRef>, SmallVector<StringRef>>>
initializerFields(StringRef kind) {
  using Fields = std::pair<SmallVector<StringRef>, SmallVector<StringRef>>;
  if (kind == "zeros" || kind == "ones" || kind == "glorot_uniform")
    return Fields{{}, {}};
  if (kind == "truncated_normal" || kind == "normal")
    return Fields{{"mean", "stddev"}, {"stddev"}};
  if (kind == "uniform")
    return Fields{{"min", "max"}, {"min", "max"}};
  return std::nullopt;
}

static LogicalResult verifyInitializer(Operation *op, DictionaryAttr init) {
  auto kind = init.getAs<StringAttr>("kind");
  if (!kind)
    return op->emitOpError("initializer needs a string 'kind'");
  auto fields = initializerFields(kind.getValue());
  if (!fields)
    return op->emitOpError("initializer kind '")
           << kind.getValue()
           << "' is not one of zeros, ones, truncated_normal, normal, "
              "uniform, glorot_uniform";
  auto [allowed, required] = *fields;
  for (NamedAttribute field : init) {
    if (field.getName() == "kind")
      continue;
    if (!llvm::is_contained(allowed, field.getName().strref()))
      return op->emitOpError("initializer '")
             << kind.getValue() << "' takes no field '" << field.getName().strref()
             << "'";
    auto value = llvm::dyn_cast<FloatAttr>(field.getValue());
    if (!value || !value.getType().isF64())
      return op->emitOpError("initializer field '")
             << field.getName().strref() << "' must be an f64";
  }
  for (StringRef name : required)
    if (!init.get(name))
      return op->emitOpError("initializer '")
             << kind.getValue() << "' needs the field '" << name << "'";
  if (auto stddev = init.getAs<FloatAttr>("stddev"))
    if (!(stddev.getValueAsDouble() > 0))
      return op->emitOpError("initializer stddev must be positive, got ")
             << stddev.getValueAsDouble();
  auto min = init.getAs<FloatAttr>("min"), max = init.getAs<FloatAttr>("max");
  if (min && max && !(min.getValueAsDouble() < max.getValueAsDouble()))
    return op->emitOpError("initializer min ")
           << min.getValueAsDouble() << " must be less than max "
           << max.getValueAsDouble();
  return success();
}

LogicalResult ParameterOp::verify() {
  auto type = llvm::cast<RankedTensorType>(getType());
  if (!type.hasStaticShape())
    return emitOpError("type ")
           << type << " must have a static shape (a weights file stores every "
           << "dimension)";
  if (DictionaryAttr init = getInitializerAttr())
    return verifyInitializer(*this, init);
  return success();
}

LogicalResult
ParamLoadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto parameter =
      symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  if (!parameter)
    return emitOpError() << getNameAttr()
                         << " does not name an lmc.parameter";
  // A parameter stored in shards (ZeRO stage 3, `lmc.shards = N`) reads as
  // this rank's shard: 1-D, ceil(n / N) elements.
  auto type = llvm::cast<RankedTensorType>(parameter.getType());
  if (auto shards = parameter->getAttrOfType<IntegerAttr>("lmc.shards")) {
    int64_t ranks = shards.getInt();
    auto shard = RankedTensorType::get({(type.getNumElements() + ranks - 1) / ranks},
                                       type.getElementType());
    if (ranks < 2 || getType() != shard)
      return emitOpError("result type ")
             << getType() << " is not the " << shard << " shard of a parameter split over "
             << ranks << " ranks";
    return success();
  }
  if (type != getType())
    return emitOpError("result type ")
           << getType() << " does not match the parameter's type " << type;
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> lhs = getLhs().getType().getShape();
  ArrayRef<int64_t> rhs = getRhs().getType().getShape();
  if (lhs.size() < 2 || rhs.size() < 2)
    return emitOpError("operands must have rank 2 or more, got ")
           << lhs.size() << " and " << rhs.size();
  if (rhs.size() != 2 && rhs.size() != lhs.size())
    return emitOpError("rhs must have rank 2 or the rank of lhs (")
           << lhs.size() << "), got " << rhs.size();
  if (failed(verifySameElementType(
          *this, "operands and result",
          {getLhs().getType(), getRhs().getType(), getType()})))
    return failure();

  ArrayRef<int64_t> lhsBatch = lhs.drop_back(2);
  if (rhs.size() == lhs.size() &&
      !areShapesCompatible(lhsBatch, rhs.drop_back(2)))
    return emitOpError("batch dimensions ")
           << formatShape(lhsBatch) << " and " << formatShape(rhs.drop_back(2))
           << " are not compatible";

  size_t lr = lhs.size(), rr = rhs.size();
  int64_t m = getTransposeLhs() ? lhs[lr - 1] : lhs[lr - 2];
  int64_t lhsK = getTransposeLhs() ? lhs[lr - 2] : lhs[lr - 1];
  int64_t rhsK = getTransposeRhs() ? rhs[rr - 1] : rhs[rr - 2];
  int64_t n = getTransposeRhs() ? rhs[rr - 2] : rhs[rr - 1];
  if (!areDimsCompatible(lhsK, rhsK))
    return emitOpError("contraction dimensions ")
           << lhsK << " and " << rhsK << " are not compatible";

  SmallVector<int64_t> expected(lhsBatch);
  expected.append({m, n});
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

static LogicalResult verifyElementwiseBinary(Operation *op) {
  SmallVector<Type> types(op->getOperandTypes());
  types.push_back(op->getResult(0).getType());
  if (failed(verifySameElementType(op, "operands and result", types)))
    return failure();
  return verifyBroadcastResult(
      op, op->getOperandTypes(),
      llvm::cast<ShapedType>(op->getResult(0).getType()));
}

LogicalResult AddOp::verify() { return verifyElementwiseBinary(*this); }
LogicalResult SubOp::verify() { return verifyElementwiseBinary(*this); }
LogicalResult MulOp::verify() { return verifyElementwiseBinary(*this); }
LogicalResult DivOp::verify() { return verifyElementwiseBinary(*this); }
LogicalResult MaxOp::verify() { return verifyElementwiseBinary(*this); }
LogicalResult MinOp::verify() { return verifyElementwiseBinary(*this); }

LogicalResult BroadcastLikeOp::verify() {
  ShapedType input = getInput().getType(), like = getLike().getType();
  if (failed(verifySameElementType(*this, "input and result", {input, getType()})))
    return failure();
  // The input broadcasts to `like` when broadcasting both gives `like`.
  std::optional<SmallVector<int64_t>> broadcast = broadcastShapes(
      {SmallVector<int64_t>(input.getShape()), SmallVector<int64_t>(like.getShape())});
  if (!broadcast || !areShapesCompatible(*broadcast, like.getShape()) ||
      input.getRank() > like.getRank())
    return emitOpError("input shape ")
           << formatShape(input.getShape()) << " does not broadcast to "
           << formatShape(like.getShape());
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               like.getShape());
}

// neg(neg(x)) => x
OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

LogicalResult CompareOp::verify() {
  if (failed(verifySameElementType(*this, "operands",
                                   {getLhs().getType(), getRhs().getType()})))
    return failure();
  return verifyBroadcastResult(*this, getOperandTypes(), getType());
}

LogicalResult SelectOp::verify() {
  if (failed(verifySameElementType(
          *this, "on_true, on_false and result",
          {getOnTrue().getType(), getOnFalse().getType(), getType()})))
    return failure();
  return verifyBroadcastResult(*this, getOperandTypes(), getType());
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult verifyReduction(Operation *op, ShapedType input,
                                     ShapedType result, int64_t axis,
                                     bool keepDims) {
  if (failed(verifyAxisInRange(op, axis, input.getRank())))
    return failure();
  if (failed(verifySameElementType(op, "input and result", {input, result})))
    return failure();
  SmallVector<int64_t> expected(input.getShape());
  if (keepDims)
    expected[axis] = 1;
  else
    expected.erase(expected.begin() + axis);
  return verifyShapeCompatible(op, "result", result.getShape(), expected);
}

LogicalResult ReduceSumOp::verify() {
  return verifyReduction(*this, getInput().getType(), getType(), getAxis(),
                         getKeepDims());
}

namespace {

/// The product of the dimensions of `type` after `axis`; -1 when one of
/// them is dynamic.
int64_t elementsAfter(ShapedType type, int64_t axis) {
  int64_t elements = 1;
  for (int64_t d = axis + 1; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d))
      return -1;
    elements *= type.getDimSize(d);
  }
  return elements;
}

/// `value` followed back through casts, and through reshapes that keep its
/// dimensions 0..axis as they are and regroup only what follows them: the
/// value whose dimension `axis` indexes the same elements.
Value throughAxisKeepingOps(Value value, int64_t axis) {
  while (Operation *op = value.getDefiningOp()) {
    if (auto cast = llvm::dyn_cast<CastOp>(op)) {
      value = cast.getInput();
      continue;
    }
    auto reshape = llvm::dyn_cast<ReshapeOp>(op);
    if (!reshape)
      break;
    auto from = llvm::cast<ShapedType>(reshape.getInput().getType());
    auto to = llvm::cast<ShapedType>(reshape.getType());
    bool keeps = from.getRank() > axis && to.getRank() > axis;
    for (int64_t d = 0; keeps && d <= axis; ++d)
      keeps = from.getDimSize(d) == to.getDimSize(d);
    int64_t trailing = keeps ? elementsAfter(from, axis) : -1;
    if (trailing < 0 || trailing != elementsAfter(to, axis))
      break;
    value = reshape.getInput();
  }
  return value;
}

} // namespace

// lmc.attention_grad's key gradient sums to zero over the key positions:
// each query row's softmax gradient dS = P (dP - rowsum(P dP)) sums to zero
// over the keys the row sees, and dK = scale dS^T Q. So the sum over that
// axis -- the gradient of a bias added to the keys -- is exactly zero, not
// the rounding noise computing it gives (which Adam, normalizing it, would
// turn into steps of the learning rate).
OpFoldResult ReduceSumOp::fold(FoldAdaptor) {
  auto type = llvm::dyn_cast<RankedTensorType>(getType());
  if (!type || !type.hasStaticShape() || !llvm::isa<FloatType>(type.getElementType()))
    return {};
  Value source = throughAxisKeepingOps(getInput(), getAxis());
  auto gradient = source.getDefiningOp<AttentionGradOp>();
  if (!gradient || source != gradient.getGradKey())
    return {};
  // Packed [T, Hk, D] over cu_seqlens: keys are dimension 0; padded
  // [B, S, Hk, D]: dimension 1.
  int64_t keyAxis = gradient.getCuSeqlens() ? 0 : 1;
  if (getAxis() != keyAxis)
    return {};
  return DenseElementsAttr::get(type, FloatAttr::get(type.getElementType(), 0.0));
}

LogicalResult ReduceMaxOp::verify() {
  return verifyReduction(*this, getInput().getType(), getType(), getAxis(),
                         getKeepDims());
}

LogicalResult SoftmaxOp::verify() {
  return verifyAxisInRange(*this, getAxis(), getType().getRank());
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> permutation = getPermutation();
  ArrayRef<int64_t> input = getInput().getType().getShape();
  SmallVector<bool> seen(input.size(), false);
  bool isPermutation = permutation.size() == input.size();
  for (int64_t dim : permutation) {
    if (!isPermutation || dim < 0 || dim >= int64_t(input.size()) || seen[dim])
      isPermutation = false;
    else
      seen[dim] = true;
  }
  if (!isPermutation)
    return emitOpError("permutation [")
           << permutation << "] is not a permutation of [0, " << input.size()
           << ")";
  if (failed(verifySameElementType(*this, "input and result",
                                   {getInput().getType(), getType()})))
    return failure();
  SmallVector<int64_t> expected;
  for (int64_t dim : permutation)
    expected.push_back(input[dim]);
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

static bool isIdentityPermutation(ArrayRef<int64_t> permutation) {
  for (auto [i, dim] : llvm::enumerate(permutation))
    if (dim != int64_t(i))
      return false;
  return true;
}

// transpose(x, identity) => x
// transpose(transpose(x, p1), p2) => transpose(x, p1[p2])
OpFoldResult TransposeOp::fold(FoldAdaptor) {
  bool updatedInPlace = false;
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> innerPermutation = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t dim : getPermutation())
      composed.push_back(innerPermutation[dim]);
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    updatedInPlace = true;
  }
  if (isIdentityPermutation(getPermutation()) &&
      getInput().getType() == getType())
    return getInput();
  return updatedInPlace ? getResult() : OpFoldResult();
}

LogicalResult ReshapeOp::verify() {
  auto input = getInput().getType();
  auto result = getType();
  if (failed(verifySameElementType(*this, "input and result", {input, result})))
    return failure();
  // Leading dimensions equal in both (dynamic counts as equal) pass through.
  ArrayRef<int64_t> inputShape = input.getShape(), resultShape = result.getShape();
  size_t shared = 0;
  while (shared < inputShape.size() && shared < resultShape.size() &&
         inputShape[shared] == resultShape[shared])
    ++shared;
  ArrayRef<int64_t> inputTail = inputShape.drop_front(shared);
  ArrayRef<int64_t> resultTail = resultShape.drop_front(shared);
  if (llvm::count_if(resultTail, ShapedType::isDynamic) > 1)
    return emitOpError("result ")
           << formatShape(resultShape)
           << " may have at most one dynamic dimension after the " << shared
           << " leading dimensions it shares with the input";
  if (llvm::any_of(inputTail, ShapedType::isDynamic))
    return success();
  int64_t count = ShapedType::getNumElements(inputTail);
  int64_t staticProduct = 1;
  for (int64_t dim : resultTail)
    if (!ShapedType::isDynamic(dim))
      staticProduct *= dim;
  bool resultTailIsStatic = llvm::none_of(resultTail, ShapedType::isDynamic);
  if (resultTailIsStatic ? staticProduct != count
                         : (staticProduct == 0 ? count != 0
                                               : count % staticProduct != 0))
    return emitOpError("result ")
           << formatShape(resultShape) << " cannot hold the elements of "
           << formatShape(inputShape);
  return success();
}

// reshape(x) : T -> T => x
// reshape(reshape(x)) => reshape(x)
// reshape(constant) => constant
OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  bool updatedInPlace = false;
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    updatedInPlace = true;
  }
  if (getInput().getType() == getType())
    return getInput();
  auto constant = llvm::dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (constant && getType().hasStaticShape())
    return constant.reshape(getType());
  return updatedInPlace ? getResult() : OpFoldResult();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  SmallVector<Type> types(getInputs().getTypes());
  types.push_back(getType());
  if (failed(verifySameElementType(*this, "inputs and result", types)))
    return failure();
  int64_t rank = getType().getRank();
  for (auto [i, type] : llvm::enumerate(getInputs().getTypes()))
    if (llvm::cast<ShapedType>(type).getRank() != rank)
      return emitOpError("input #")
             << i << " has rank " << llvm::cast<ShapedType>(type).getRank()
             << ", the result " << rank;
  int64_t axis = getAxis();
  if (failed(verifyAxisInRange(*this, axis, rank)))
    return failure();

  SmallVector<int64_t> expected(rank, ShapedType::kDynamic);
  int64_t axisSize = 0;
  for (auto [i, type] : llvm::enumerate(getInputs().getTypes())) {
    ArrayRef<int64_t> shape = llvm::cast<ShapedType>(type).getShape();
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      if (!areDimsCompatible(expected[d], shape[d]))
        return emitOpError("input #")
               << i << " has size " << shape[d] << " at dimension " << d
               << ", an earlier input " << expected[d];
      if (!ShapedType::isDynamic(shape[d]))
        expected[d] = shape[d];
    }
    axisSize = ShapedType::isDynamic(shape[axis]) ||
                       ShapedType::isDynamic(axisSize)
                   ? ShapedType::kDynamic
                   : axisSize + shape[axis];
  }
  expected[axis] = axisSize;
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

LogicalResult SliceOp::verify() {
  ArrayRef<int64_t> input = getInput().getType().getShape();
  int64_t axis = getAxis(), start = getStart(), limit = getLimit();
  if (failed(verifyAxisInRange(*this, axis, input.size())))
    return failure();
  if (start < 0 || start >= limit)
    return emitOpError("start ")
           << start << " and limit " << limit
           << " must satisfy 0 <= start < limit";
  if (!ShapedType::isDynamic(input[axis]) && limit > input[axis])
    return emitOpError("limit ")
           << limit << " exceeds the size " << input[axis] << " of axis "
           << axis;
  if (failed(verifySameElementType(*this, "input and result",
                                   {getInput().getType(), getType()})))
    return failure();
  SmallVector<int64_t> expected(input);
  expected[axis] = limit - start;
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

// slice(x, whole axis) => x
OpFoldResult SliceOp::fold(FoldAdaptor) {
  int64_t size = getInput().getType().getDimSize(getAxis());
  if (getStart() == 0 && getLimit() == size &&
      getInput().getType() == getType())
    return getInput();
  return {};
}

// True when every value of `from` is exactly a value of `to`, so converting
// through `to` loses nothing.
static bool isLosslessConversion(Type from, Type to) {
  if (from == to || from.isInteger(1))
    return true;
  if (from.isF16() || from.isBF16())
    return to.isF32();
  if (from.isInteger(32))
    return to.isInteger(64);
  return false;
}

// cast(x) : T -> T => x
// cast(cast(x)) => cast(x) when the middle type is lossless for x
OpFoldResult CastOp::fold(FoldAdaptor) {
  bool updatedInPlace = false;
  if (auto inner = getInput().getDefiningOp<CastOp>()) {
    Type source = inner.getInput().getType().getElementType();
    Type middle = inner.getType().getElementType();
    if (isLosslessConversion(source, middle)) {
      getInputMutable().assign(inner.getInput());
      updatedInPlace = true;
    }
  }
  if (getInput().getType() == getType())
    return getInput();
  return updatedInPlace ? getResult() : OpFoldResult();
}
