//===- FuseAttention.cpp - primitive attention chains to lmc.attention ----===//
//
// softmax(scale * Q K^T + mask) V => attention(Q, K, V, scale, mask)
//
// The matcher accepts only chains it can prove equal to lmc.attention (see
// Passes.td for the spellings); anything else is left as it is and the pass
// says why in a remark. Every accepted spelling is checked numerically
// against the unfused graph by the evaluator (test/unit/passes).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/LengthMasks.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::lmc {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

/// Masks at or below this value count as "minus infinity".
constexpr double kMaskedScore = -1.0e4;

/// The parts of a recognized chain; Q, K and V are [B, H, S, D].
struct AttentionChain {
  Value query, key, value, lengths;
  double scale = 1.0;
  bool causal = false;
};

/// The value of a float constant with one distinct element (a scalar or a
/// splat), if `value` is one.
std::optional<double> splatConstant(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !llvm::isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

int64_t rankOf(Value value) {
  return llvm::cast<ShapedType>(value.getType()).getRank();
}

bool isLastAxis(int64_t axis, Value value) { return axis == rankOf(value) - 1; }

/// Matches softmax over the last axis: lmc.softmax, or
/// exp(s - reduce_max(s)) / reduce_sum(exp(s - reduce_max(s))).
/// Returns the scores s; `why` says what differs when it is a softmax of
/// another kind, and stays empty when `probs` is no softmax at all.
Value matchSoftmax(Value probs, std::string &why) {
  if (auto softmax = probs.getDefiningOp<SoftmaxOp>()) {
    if (!isLastAxis(softmax.getAxis(), softmax.getInput())) {
      why = "softmax over axis " + std::to_string(softmax.getAxis()) +
            ", not the last (key) axis";
      return Value();
    }
    return softmax.getInput();
  }
  auto div = probs.getDefiningOp<DivOp>();
  auto sum = div ? div.getRhs().getDefiningOp<ReduceSumOp>() : ReduceSumOp();
  auto exp = div ? div.getLhs().getDefiningOp<ExpOp>() : ExpOp();
  if (!sum || !exp || sum.getInput() != exp.getResult())
    return Value();
  auto sub = exp.getInput().getDefiningOp<SubOp>();
  auto max = sub ? sub.getRhs().getDefiningOp<ReduceMaxOp>() : ReduceMaxOp();
  if (!max || max.getInput() != sub.getLhs())
    return Value();
  if (!isLastAxis(sum.getAxis(), exp.getResult()) ||
      !isLastAxis(max.getAxis(), sub.getLhs()) || !sum.getKeepDims() ||
      !max.getKeepDims()) {
    why = "the decomposed softmax reduces another axis than the last (key) axis";
    return Value();
  }
  // exp feeds the division and the sum; s feeds the max and the subtraction.
  if (!llvm::hasNItems(exp->getUsers(), 2) || !sum->hasOneUse() ||
      !sub->hasOneUse() || !max->hasOneUse() ||
      !llvm::hasNItems(sub.getLhs().getUsers(), 2)) {
    why = "an intermediate of the softmax has another user";
    return Value();
  }
  return sub.getLhs();
}

/// True when every use of `value` is inside the chain: one use, or the two
/// uses a decomposed softmax makes of its input.
bool onlyUsedByChain(Value value, Value softmaxInput, unsigned softmaxUses) {
  return value == softmaxInput ? llvm::hasNItems(value.getUsers(), softmaxUses)
                               : value.hasOneUse();
}

/// True for a constant [.., Sq, Sk] matrix with 0 on and below the diagonal
/// and masked scores above it.
bool isCausalMask(Value mask) {
  DenseElementsAttr attr;
  if (!matchPattern(mask, m_Constant(&attr)) ||
      !llvm::isa<FloatType>(attr.getElementType()))
    return false;
  ArrayRef<int64_t> shape = attr.getType().getShape();
  if (shape.size() < 2 || llvm::any_of(shape.drop_back(2), [](int64_t d) { return d != 1; }))
    return false;
  int64_t rows = shape[shape.size() - 2], cols = shape.back();
  if (rows != cols)
    return false;
  auto values = attr.getValues<APFloat>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double value = values[i * cols + j].convertToDouble();
      if (j <= i ? value != 0 : !(value <= kMaskedScore))
        return false;
    }
  return true;
}

/// Peels masks off the scores: `add(s, causal)`, `add(s, select(valid, 0,
/// -large))` and `select(valid, s, -large)`, in any order.
Value peelMasks(Value scores, AttentionChain &chain, std::string &why,
                Value softmaxInput, unsigned softmaxUses) {
  while (true) {
    if (auto select = scores.getDefiningOp<SelectOp>()) {
      if (!onlyUsedByChain(select.getResult(), softmaxInput, softmaxUses)) {
        why = "an intermediate of the scores has another user";
        return Value();
      }
      std::optional<double> masked = splatConstant(select.getOnFalse());
      Value lengths = matchLengthsMask(select.getCondition(), /*rank=*/4, /*axis=*/3);
      if (!lengths || !masked || !(*masked <= kMaskedScore) || chain.lengths) {
        why = "a select on the scores that is not a key-length mask";
        return Value();
      }
      chain.lengths = lengths;
      scores = select.getOnTrue();
      continue;
    }
    auto add = scores.getDefiningOp<AddOp>();
    if (!add)
      return scores;
    if (!onlyUsedByChain(add.getResult(), softmaxInput, softmaxUses)) {
      why = "an intermediate of the scores has another user";
      return Value();
    }
    Value mask = add.getRhs(), rest = add.getLhs();
    if (!isCausalMask(mask) && !mask.getDefiningOp<SelectOp>())
      std::swap(mask, rest);
    if (isCausalMask(mask) && !chain.causal) {
      chain.causal = true;
      scores = rest;
      continue;
    }
    auto select = mask.getDefiningOp<SelectOp>();
    std::optional<double> keep = select ? splatConstant(select.getOnTrue()) : std::nullopt;
    std::optional<double> masked = select ? splatConstant(select.getOnFalse()) : std::nullopt;
    Value lengths = select ? matchLengthsMask(select.getCondition(), /*rank=*/4, /*axis=*/3) : Value();
    if (!lengths || keep != 0.0 || !masked || !(*masked <= kMaskedScore) ||
        chain.lengths) {
      why = "an additive bias that is neither a causal nor a key-length mask";
      return Value();
    }
    chain.lengths = lengths;
    scores = rest;
  }
}

/// Splits `value = operand * constant` (either order) or `operand /
/// constant`, folding the constant into `scale`; returns `value` itself
/// otherwise. `private` says whether the chain owns every use of `value`.
Value peelScale(Value value, double &scale, bool isPrivate) {
  if (!isPrivate)
    return value;
  if (auto mul = value.getDefiningOp<MulOp>()) {
    for (auto [factor, rest] : {std::pair(mul.getRhs(), mul.getLhs()),
                                std::pair(mul.getLhs(), mul.getRhs())})
      if (std::optional<double> constant = splatConstant(factor)) {
        scale *= *constant;
        return rest;
      }
  }
  if (auto div = value.getDefiningOp<DivOp>())
    if (std::optional<double> constant = splatConstant(div.getRhs()))
      if (*constant != 0) {
        scale /= *constant;
        return div.getLhs();
      }
  return value;
}

FailureOr<AttentionChain> matchAttention(MatmulOp root, std::string &why) {
  if (root.getTransposeLhs() || root.getTransposeRhs() || rankOf(root.getLhs()) != 4)
    return failure();
  Value scores = matchSoftmax(root.getLhs(), why);
  if (!scores)
    return failure();
  if (!root.getLhs().hasOneUse()) {
    why = "the attention probabilities have another user";
    return failure();
  }
  AttentionChain chain;
  chain.value = root.getRhs();
  Value softmaxInput = scores;
  unsigned softmaxUses = root.getLhs().getDefiningOp<SoftmaxOp>() ? 1 : 2;
  scores = peelMasks(scores, chain, why, softmaxInput, softmaxUses);
  if (!scores)
    return failure();
  scores = peelScale(scores, chain.scale,
                     onlyUsedByChain(scores, softmaxInput, softmaxUses));
  auto product = scores.getDefiningOp<MatmulOp>();
  if (!product || product.getTransposeLhs() || !product.getTransposeRhs() ||
      rankOf(product.getLhs()) != 4 || rankOf(product.getRhs()) != 4) {
    why = "the scores are not a product Q K^T of [B, H, S, D] operands, "
          "scaled by a constant";
    return failure();
  }
  if (!onlyUsedByChain(product.getResult(), softmaxInput, softmaxUses)) {
    why = "the scores Q K^T have another user";
    return failure();
  }
  chain.query = peelScale(product.getLhs(), chain.scale,
                          product.getLhs().hasOneUse());
  chain.key = peelScale(product.getRhs(), chain.scale,
                        product.getRhs().hasOneUse());
  auto keyShape = llvm::cast<ShapedType>(chain.key.getType()).getShape();
  auto queryShape = llvm::cast<ShapedType>(chain.query.getType()).getShape();
  if (chain.causal && (ShapedType::isDynamic(queryShape[2]) ||
                       queryShape[2] != keyShape[2])) {
    why = "a causal mask over queries and keys of different lengths";
    return failure();
  }
  if (!(chain.scale > 0)) {
    why = "the scale is not positive";
    return failure();
  }
  return chain;
}

/// [B, H, S, D] -> [B, S, H, D], taking back a head-split transpose when the
/// value is one.
Value toSequenceMajor(PatternRewriter &rewriter, Location loc, Value value) {
  if (auto transpose = value.getDefiningOp<TransposeOp>())
    if (transpose.getPermutation() == ArrayRef<int64_t>{0, 2, 1, 3})
      return transpose.getInput();
  auto type = llvm::cast<RankedTensorType>(value.getType());
  ArrayRef<int64_t> s = type.getShape();
  auto swapped = RankedTensorType::get({s[0], s[2], s[1], s[3]}, type.getElementType());
  return rewriter.create<TransposeOp>(loc, swapped, value,
                                      rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

// softmax(scale * Q K^T + mask) V => attention(Q, K, V, scale, mask)
struct FuseAttentionPattern : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp root,
                                PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<AttentionChain> chain = matchAttention(root, why);
    if (failed(chain))
      return rewriter.notifyMatchFailure(root, why.empty() ? "not attention" : why);
    Location loc = root.getLoc();
    Value q = toSequenceMajor(rewriter, loc, chain->query);
    Value k = toSequenceMajor(rewriter, loc, chain->key);
    Value v = toSequenceMajor(rewriter, loc, chain->value);
    auto rootType = root.getType();
    ArrayRef<int64_t> s = rootType.getShape();
    auto resultType = RankedTensorType::get({s[0], s[2], s[1], s[3]},
                                            rootType.getElementType());
    Value attention = rewriter.create<AttentionOp>(
        loc, resultType, /*lse=*/Type(), q, k, v, chain->lengths, /*cu_seqlens=*/Value(),
        chain->causal, rewriter.getF32FloatAttr(float(chain->scale)))
        .getResult();
    rewriter.replaceOpWithNewOp<TransposeOp>(
        root, rootType, attention, rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}));
    return success();
  }
};

struct FuseAttentionPass
    : mlir::lmc::impl::FuseAttentionPassBase<FuseAttentionPass> {
  LogicalResult initialize(MLIRContext *context) override {
    RewritePatternSet set(context);
    populateFuseAttentionPatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    if (failed(applyPatternsAndFoldGreedily(getOperation(), patterns)))
      return signalPassFailure();
    // Chains that look like attention but were left alone say why.
    getOperation().walk([](MatmulOp root) {
      std::string why;
      if (failed(matchAttention(root, why)) && !why.empty())
        root.emitRemark("not fused into lmc.attention: ") << why;
    });
  }

  FrozenRewritePatternSet patterns;
};

} // namespace

void mlir::lmc::populateFuseAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseAttentionPattern>(patterns.getContext());
}
