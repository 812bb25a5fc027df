//===- CompositeGradients.cpp - gradient rules of norms, gelu, gathers ----===//
//
// Normalizations recompute their statistics from the input rather than
// keeping them from the forward pass; attention keeps its log-sum-exp and
// gets one lmc.attention_grad; gathers give row-sparse table gradients.
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/GradientBuilder.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"


#include <cmath>

namespace mlir::lmc::autodiff {
namespace {

Type elementOf(Value value) { return typeOf(value).getElementType(); }

/// The mean of `x` over its last axis, kept as a size-1 dimension.
Value lastAxisMean(GradientBuilder &gb, Value x, int64_t width) {
  int64_t last = int64_t(shapeOf(x).size()) - 1;
  return gb.mul(gb.reduceSum(x, last, /*keepDims=*/true),
                gb.scalar(1.0 / double(width), elementOf(x)));
}

// xhat = (x - mean) * rstd; y = xhat * gamma (+ beta).
// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), where
// dxhat = dy * gamma; rms_norm has no centering and no mean(dxhat) term.
LogicalResult differentiateNorm(Operation *op, Value x, Value gamma, Value beta,
                                double epsilon, bool centered, Value dy,
                                GradientBuilder &gb) {
  int64_t width = shapeOf(x).back();
  if (ShapedType::isDynamic(width))
    return op->emitError("lmc-autodiff: normalizing over a dynamic last "
                         "dimension has no gradient rule");
  Value centeredX = centered ? gb.sub(x, lastAxisMean(gb, x, width)) : x;
  Value variance = lastAxisMean(gb, gb.mul(centeredX, centeredX), width);
  Value rstd = gb.rsqrt(gb.add(variance, gb.scalar(epsilon, elementOf(x))));
  Value normalized = gb.mul(centeredX, rstd);
  if (gb.isActive(gamma))
    gb.accumulate(gamma, gb.mul(dy, normalized));
  if (beta && gb.isActive(beta))
    gb.accumulate(beta, dy);
  if (!gb.isActive(x))
    return success();
  Value dNormalized = gb.mul(dy, gamma);
  Value projection = gb.mul(normalized,
                            lastAxisMean(gb, gb.mul(dNormalized, normalized), width));
  Value inner = gb.sub(dNormalized, projection);
  if (centered)
    inner = gb.sub(inner, lastAxisMean(gb, dNormalized, width));
  gb.accumulate(x, gb.mul(rstd, inner));
  return success();
}

Value geluDerivative(GradientBuilder &gb, GeluApproximation approximation, Value x) {
  Type element = elementOf(x);
  auto c = [&](double value) { return gb.scalar(value, element); };
  if (approximation == GeluApproximation::erf) {
    // Phi(x) + x * phi(x)
    Value cdf = gb.mul(c(0.5), gb.add(c(1), gb.erf(gb.mul(x, c(1 / std::sqrt(2.0))))));
    Value pdf = gb.mul(gb.exp(gb.mul(gb.mul(x, x), c(-0.5))), c(1 / std::sqrt(2 * M_PI)));
    return gb.add(cdf, gb.mul(x, pdf));
  }
  // t = tanh(k (x + a x^3)): 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 a x^2)
  double k = std::sqrt(2 / M_PI), a = 0.044715;
  Value square = gb.mul(x, x);
  Value t = gb.tanh(gb.mul(c(k), gb.add(x, gb.mul(c(a), gb.mul(square, x)))));
  Value slope = gb.mul(c(k), gb.add(c(1), gb.mul(c(3 * a), square)));
  Value sech2 = gb.sub(c(1), gb.mul(t, t));
  return gb.add(gb.mul(c(0.5), gb.add(c(1), t)),
                gb.mul(gb.mul(c(0.5), x), gb.mul(sech2, slope)));
}

// The backward needs the forward's log-sum-exp: an attention without one is
// rebuilt with it in place.
LogicalResult differentiateAttention(AttentionOp op, ArrayRef<Value> resultGradients,
                                     GradientBuilder &gb) {
  if (resultGradients.size() > 1 && resultGradients[1])
    return op.emitError("lmc-autodiff: attention's log-sum-exp is an output of "
                        "the forward pass only; nothing may differentiate through it");
  Value dy = resultGradients.front();
  if (!op.getLse()) {
    OpBuilder::InsertionGuard guard(gb.builder);
    gb.builder.setInsertionPoint(op);
    auto lseType = RankedTensorType::get(shapeOf(op.getQuery()).drop_back(),
                                         gb.builder.getF32Type());
    auto withLse = gb.builder.create<AttentionOp>(
        op.getLoc(), op.getResult().getType(), lseType, op.getQuery(), op.getKey(),
        op.getValue(), op.getLengths(), op.getCuSeqlens(), op.getCausal(),
        op.getScaleAttr());
    op.getResult().replaceAllUsesWith(withLse.getResult());
    op.erase();
    op = withLse;
  }
  auto grad = gb.builder.create<AttentionGradOp>(
      gb.loc(), op.getQuery().getType(), op.getKey().getType(), op.getValue().getType(),
      op.getQuery(), op.getKey(), op.getValue(), op.getResult(), op.getLse(), dy,
      op.getLengths(), op.getCuSeqlens(), op.getCausal(), op.getScaleAttr());
  gb.accumulate(op.getQuery(), grad.getGradQuery());
  gb.accumulate(op.getKey(), grad.getGradKey());
  gb.accumulate(op.getValue(), grad.getGradValue());
  return success();
}

} // namespace

std::optional<LogicalResult> differentiateCompositeOp(Operation *op,
                                                      ArrayRef<Value> resultGradients,
                                                      GradientBuilder &gb) {
  Value dy = resultGradients.empty() ? Value() : resultGradients.front();
  return OpRuleSwitch(op, gb.probing)
      .Case([&](LayerNormOp norm) {
        return differentiateNorm(op, norm.getInput(), norm.getGamma(), norm.getBeta(),
                                 norm.getEpsilon().convertToDouble(),
                                 /*centered=*/true, dy, gb);
      })
      .Case([&](RmsNormOp norm) {
        return differentiateNorm(op, norm.getInput(), norm.getGamma(), Value(),
                                 norm.getEpsilon().convertToDouble(),
                                 /*centered=*/false, dy, gb);
      })
      .Case([&](GeluOp gelu) -> std::optional<LogicalResult> {
        gb.accumulate(gelu.getInput(),
                      gb.mul(dy, geluDerivative(gb, gelu.getApproximation(), gelu.getInput())));
        return success();
      })
      .Case([&](EmbeddingOp embedding) {
        return gb.accumulateRows(op, embedding.getTable(), embedding.getIds(), dy);
      })
      .Case([&](AttentionOp attention) {
        return differentiateAttention(attention, resultGradients, gb);
      })
      .Default();
}

} // namespace mlir::lmc::autodiff
