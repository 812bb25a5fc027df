//===- RemovePadding.cpp - compute on packed tokens -----------------------===//
//
// unpad(op(x...), len) => op(unpad(x, len)...)        for token-wise ops
// unpad(attention(q, k, v, lengths(len)), len)
//     => attention(unpad(q), unpad(k), unpad(v), cu_seqlens(cu))
//
// Rather than a greedy pattern set, the pass memoizes the packed form of
// every padded value it reaches, so a value read by several ops (the
// residual stream of an encoder) is packed once.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/LengthMasks.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_REMOVEPADDINGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

constexpr int64_t kDynamic = ShapedType::kDynamic;

ArrayRef<int64_t> shapeOf(Value value) {
  return llvm::cast<ShapedType>(value.getType()).getShape();
}

/// [B, S, rest...] -> [T, rest...].
RankedTensorType packedType(Value padded) {
  auto type = llvm::cast<RankedTensorType>(padded.getType());
  SmallVector<int64_t> shape{kDynamic};
  llvm::append_range(shape, type.getShape().drop_front(2));
  return RankedTensorType::get(shape, type.getElementType());
}

/// True when `operand` is laid out like the padded `result`: same rank and
/// the same [B, S] leading dimensions.
bool isPaddedLike(Value operand, Value result) {
  ArrayRef<int64_t> a = shapeOf(operand), b = shapeOf(result);
  return a.size() == b.size() && a.size() >= 2 && a[0] == b[0] && a[1] == b[1];
}

/// Ops that compute each token from that token alone, operand by operand:
/// padded operands are packed, operands of rank <= rank - 2 broadcast over
/// the tokens and stay. Axis attributes above 1 shift down by one. Ops that
/// read the last axis need a feature axis after [B, S].
bool isTokenWise(Operation *op) {
  if (op->getNumResults() != 1 || shapeOf(op->getResult(0)).size() < 2)
    return false;
  if (isa<LayerNormOp, RmsNormOp>(op) && shapeOf(op->getResult(0)).size() < 3)
    return false;
  if (!isRowLocal(op))
    return false;
  if (auto axis = op->getAttrOfType<IntegerAttr>("axis"); axis && axis.getInt() < 2)
    return false;
  Value result = op->getResult(0);
  int64_t rank = int64_t(shapeOf(result).size());
  bool anyPadded = false;
  for (Value operand : op->getOperands()) {
    if (isPaddedLike(operand, result))
      anyPadded = true;
    else if (int64_t(shapeOf(operand).size()) > rank - 2)
      return false;
  }
  return anyPadded;
}

class Packer {
public:
  explicit Packer(OpBuilder &builder) : builder(builder) {}

  /// The packed form of `padded` (a [B, S, ...] value whose sequences have
  /// `lengths`), built on first request.
  Value pack(Value padded, Value lengths);

  /// The cu_seqlens of `lengths`, once anything has been packed with them.
  Value cuSeqlens(Value lengths) { return cuOf.lookup(lengths); }

private:
  Value packOp(Operation *op, Value lengths);
  Value unpadHere(Value padded, Value lengths);

  OpBuilder &builder;
  DenseMap<std::pair<Value, Value>, Value> packedOf;
  DenseMap<Value, Value> cuOf;
};

// An unpad placed where both its operands are available.
Value Packer::unpadHere(Value padded, Value lengths) {
  OpBuilder::InsertionGuard guard(builder);
  Operation *paddedDef = padded.getDefiningOp();
  Operation *lengthsDef = lengths.getDefiningOp();
  Operation *later = !paddedDef ? lengthsDef
                     : !lengthsDef ? paddedDef
                     : paddedDef->isBeforeInBlock(lengthsDef) ? lengthsDef
                                                              : paddedDef;
  if (later)
    builder.setInsertionPointAfter(later);
  else
    builder.setInsertionPointToStart(llvm::cast<BlockArgument>(padded).getOwner());
  auto cuType = RankedTensorType::get({kDynamic}, builder.getI32Type());
  auto unpad = builder.create<UnpadOp>(padded.getLoc(), packedType(padded),
                                       cuType, padded, lengths);
  cuOf.try_emplace(lengths, unpad.getCuSeqlens());
  return unpad.getPacked();
}

Value Packer::pack(Value padded, Value lengths) {
  auto key = std::make_pair(padded, lengths);
  if (Value known = packedOf.lookup(key))
    return known;
  Value packed;
  if (Operation *op = padded.getDefiningOp())
    packed = packOp(op, lengths);
  if (!packed)
    packed = unpadHere(padded, lengths);
  packedOf[key] = packed;
  return packed;
}

// The packed clone of `op`, or null when `op` is not token-wise.
Value Packer::packOp(Operation *op, Value lengths) {
  Value result = op->getResult(0);
  IRMapping mapping;

  if (auto attention = dyn_cast<AttentionOp>(op)) {
    // Padded attention masks keys past each length, which is exactly what
    // packed attention does within each sequence.
    if (attention.isPacked() || attention.getLengths() != lengths ||
        shapeOf(attention.getQuery())[1] != shapeOf(attention.getKey())[1])
      return Value();
    Value q = pack(attention.getQuery(), lengths);
    Value k = pack(attention.getKey(), lengths);
    Value v = pack(attention.getValue(), lengths);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointAfter(op);
    return builder.create<AttentionOp>(op->getLoc(), packedType(result),
                                       /*lse=*/Type(), q, k, v,
                                       Value(), cuSeqlens(lengths),
                                       attention.getCausal(),
                                       attention.getScaleAttr())
        .getResult();
  }

  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    // [B, S, K] x [K, N]: a shared weight applied to every token.
    if (shapeOf(matmul.getLhs()).size() != 3 || shapeOf(matmul.getRhs()).size() != 2 ||
        matmul.getTransposeLhs())
      return Value();
    mapping.map(matmul.getLhs(), pack(matmul.getLhs(), lengths));
  } else if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
    if (shapeOf(embedding.getIds()).size() != 2)
      return Value();
    mapping.map(embedding.getIds(), pack(embedding.getIds(), lengths));
  } else if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    ArrayRef<int64_t> in = shapeOf(reshape.getInput()), out = shapeOf(result);
    if (in.size() < 3 || out.size() < 3 || in[0] != out[0] || in[1] != out[1])
      return Value();
    mapping.map(reshape.getInput(), pack(reshape.getInput(), lengths));
  } else if (isTokenWise(op)) {
    for (Value operand : op->getOperands())
      if (isPaddedLike(operand, result))
        mapping.map(operand, pack(operand, lengths));
  } else {
    return Value();
  }

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointAfter(op);
  Operation *clone = builder.clone(*op, mapping);
  clone->getResult(0).setType(packedType(result));
  if (auto axis = clone->getAttrOfType<IntegerAttr>("axis"))
    clone->setAttr("axis", builder.getI64IntegerAttr(axis.getInt() - 1));
  return clone->getResult(0);
}

/// The lengths of a padded output: those of the padded attention ops its
/// computation contains, when there is exactly one.
Value lengthsOfOutput(Value output) {
  SetVector<Operation *> slice;
  getBackwardSlice(output, &slice);
  if (Operation *def = output.getDefiningOp())
    slice.insert(def);
  Value lengths;
  for (Operation *op : slice) {
    auto attention = dyn_cast<AttentionOp>(op);
    if (!attention || !attention.getLengths())
      continue;
    if (lengths && lengths != attention.getLengths())
      return Value();
    lengths = attention.getLengths();
  }
  return lengths;
}

/// Padded pooling written op by op, over [B, S, ...] values:
///   slice(x, axis 1, 0, 1)                      => segment_reduce first
///   reduce_sum(select(valid, x, 0), axis 1)     => segment_reduce sum
/// (a masked mean divides the sum by the lengths, which stays as it is).
/// Returns the replacement for `op`'s result, or null.
Value packPooling(Operation *op, Packer &packer, OpBuilder &builder) {
  Value padded, lengths;
  SegmentReduction reduction;
  if (auto slice = dyn_cast<SliceOp>(op)) {
    if (slice.getAxis() != 1 || slice.getStart() != 0 || slice.getLimit() != 1 ||
        shapeOf(slice.getInput()).size() < 3)
      return Value();
    padded = slice.getInput();
    lengths = lengthsOfOutput(padded);
    reduction = SegmentReduction::first;
  } else if (auto sum = dyn_cast<ReduceSumOp>(op)) {
    auto select = sum.getInput().getDefiningOp<SelectOp>();
    DenseElementsAttr attr;
    if (sum.getAxis() != 1 || !select ||
        !matchPattern(select.getOnFalse(), m_Constant(&attr)) || !attr.isSplat() ||
        !llvm::isa<FloatType>(attr.getElementType()) ||
        !attr.getSplatValue<APFloat>().isZero() ||
        !isPaddedLike(select.getOnTrue(), select.getResult()))
      return Value();
    padded = select.getOnTrue();
    lengths = matchLengthsMask(select.getCondition(),
                               int64_t(shapeOf(padded).size()), /*axis=*/1);
    reduction = SegmentReduction::sum;
  } else {
    return Value();
  }
  if (!lengths)
    return Value();
  Value packed = packer.pack(padded, lengths);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(op);
  // [B, ...]: the packed layout of the padded value, one row per sequence.
  RankedTensorType pooledType = packedType(padded);
  Value pooled = builder.create<SegmentReduceOp>(op->getLoc(), pooledType, reduction,
                                                 packed, packer.cuSeqlens(lengths));
  // keep_dims and slices keep a size-1 sequence axis.
  if (op->getResult(0).getType() != pooled.getType())
    pooled = builder.create<ReshapeOp>(op->getLoc(), op->getResult(0).getType(), pooled);
  return pooled;
}

struct RemovePaddingPass
    : mlir::lmc::impl::RemovePaddingPassBase<RemovePaddingPass> {
  using RemovePaddingPassBase::RemovePaddingPassBase;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    SmallVector<UnpadOp> seeds;
    function.walk([&](UnpadOp unpad) { seeds.push_back(unpad); });
    OpBuilder builder(function.getContext());
    Packer packer(builder);
    SmallVector<Operation *> poolings;
    function.walk([&](Operation *op) {
      if (isa<SliceOp, ReduceSumOp>(op))
        poolings.push_back(op);
    });
    for (Operation *op : poolings)
      if (Value pooled = packPooling(op, packer, builder))
        op->getResult(0).replaceAllUsesWith(pooled);
    packOutputs(function, packer, builder);
    for (UnpadOp seed : seeds) {
      Value packed = packer.pack(seed.getInput(), seed.getLengths());
      // A seed typed more statically than [?, ...] keeps its own result.
      if (packed.getType() != seed.getPacked().getType())
        continue;
      seed.getPacked().replaceAllUsesWith(packed);
      seed.getCuSeqlens().replaceAllUsesWith(packer.cuSeqlens(seed.getLengths()));
    }
    // The padded computations that fed the seeds are now dead.
    IRRewriter rewriter(function.getContext());
    (void)runRegionDCE(rewriter, function->getRegions());
  }

  // Packs padded outputs: re-padded at the return, or returned packed with
  // their cu_seqlens.
  void packOutputs(func::FuncOp function, Packer &packer, OpBuilder &builder) {
    auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
    SmallVector<Value> results;
    SmallVector<DictionaryAttr> attributes;
    bool changed = false;
    for (auto [index, output] : llvm::enumerate(ret.getOperands())) {
      DictionaryAttr attrs = function.getResultAttrDict(index);
      if (!attrs)
        attrs = builder.getDictionaryAttr({});
      results.push_back(output);
      attributes.push_back(attrs);
      auto type = llvm::cast<RankedTensorType>(output.getType());
      Value lengths = type.getRank() >= 3 && type.isDynamicDim(0) && type.isDynamicDim(1)
                          ? lengthsOfOutput(output)
                          : Value();
      if (!lengths)
        continue;
      Value packed = packer.pack(output, lengths);
      Value cu = packer.cuSeqlens(lengths);
      changed = true;
      if (keepOutputsPacked) {
        results.back() = packed;
        auto name = attrs ? attrs.getAs<StringAttr>("lmc.output") : StringAttr();
        results.push_back(cu);
        attributes.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
            "lmc.output",
            builder.getStringAttr((name ? name.getValue() : "output" + std::to_string(index)) +
                                  ".cu_seqlens"))));
        continue;
      }
      builder.setInsertionPoint(ret);
      auto lengthsType = RankedTensorType::get({kDynamic}, builder.getI32Type());
      results.back() = builder.create<PadOp>(ret.getLoc(), type, lengthsType,
                                             packed, cu).getResult();
    }
    if (!changed)
      return;
    ret->setOperands(results);
    function.setType(builder.getFunctionType(function.getArgumentTypes(),
                                             ValueRange(results).getTypes()));
    function.setAllResultAttrs(attributes);
  }
};

} // namespace
