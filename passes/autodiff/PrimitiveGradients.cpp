//===- PrimitiveGradients.cpp - gradient rules of the primitive ops -------===//
//
// Elementwise ops, matmul, reductions, softmax and data movement. Each rule
// builds its operands' gradients from lmc ops, so the backward pass runs on
// every backend the forward runs on.
//
//===----------------------------------------------------------------------===//

#include "passes/autodiff/GradientBuilder.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"


#include <cmath>

namespace mlir::lmc::autodiff {
namespace {

Type elementOf(Value value) { return typeOf(value).getElementType(); }

/// `x` with its two innermost dimensions swapped.
Value transposeInner(GradientBuilder &gb, Value x) {
  SmallVector<int64_t> permutation;
  for (int64_t i = 0; i < int64_t(shapeOf(x).size()); ++i)
    permutation.push_back(i);
  std::swap(permutation[permutation.size() - 1], permutation[permutation.size() - 2]);
  return gb.transpose(x, permutation);
}

// y = op(A) op(B): dA' = dY B'^T, dB' = A'^T dY, and a shared rank-2 B sums
// its gradient over the batch.
LogicalResult differentiateMatmul(MatmulOp op, Value dy, GradientBuilder &gb) {
  Value a = op.getLhs(), b = op.getRhs();
  bool ta = op.getTransposeLhs(), tb = op.getTransposeRhs();
  if (gb.isActive(a)) {
    Value da = gb.matmul(dy, b, /*transposeLhs=*/false, /*transposeRhs=*/!tb);
    gb.accumulate(a, ta ? transposeInner(gb, da) : da);
  }
  if (gb.isActive(b)) {
    Value db = tb ? gb.matmul(dy, a, /*transposeLhs=*/true, /*transposeRhs=*/ta)
                  : gb.matmul(a, dy, /*transposeLhs=*/!ta, /*transposeRhs=*/false);
    while (shapeOf(db).size() > shapeOf(b).size())
      db = gb.reduceSum(db, 0, /*keepDims=*/false);
    gb.accumulate(b, db);
  }
  return success();
}

// Ties of max/min send the gradient to the left operand, as the forward's
// comparison picks it.
void differentiateExtremum(Operation *op, Value dy, ComparePredicate keepsLhs,
                           GradientBuilder &gb) {
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  Value takesLhs = gb.compare(keepsLhs, lhs, rhs);
  Value zero = gb.scalar(0, elementOf(dy));
  gb.accumulate(lhs, gb.select(takesLhs, dy, zero));
  gb.accumulate(rhs, gb.select(takesLhs, zero, dy));
}

// Every maximal element of a line shares the line's gradient equally.
void differentiateReduceMax(ReduceMaxOp op, Value dy, GradientBuilder &gb) {
  int64_t axis = op.getAxis();
  Value x = op.getInput();
  Value y = op.getKeepDims() ? op.getResult() : gb.expandDim(op.getResult(), axis);
  if (!op.getKeepDims())
    dy = gb.expandDim(dy, axis);
  Value isMax = gb.compare(ComparePredicate::eq, x, y);
  Value one = gb.scalar(1, elementOf(x)), zero = gb.scalar(0, elementOf(x));
  Value count = gb.reduceSum(gb.select(isMax, one, zero), axis, /*keepDims=*/true);
  gb.accumulate(x, gb.select(isMax, gb.div(dy, count), zero));
}

LogicalResult differentiateConcat(ConcatOp op, Value dy, GradientBuilder &gb) {
  int64_t axis = op.getAxis(), offset = 0;
  for (Value input : op.getInputs()) {
    int64_t size = shapeOf(input)[size_t(axis)];
    if (ShapedType::isDynamic(size))
      return op.emitError("lmc-autodiff: concat's gradient slices its inputs "
                          "back out, so their sizes along axis ")
             << axis << " must be static";
    if (gb.isActive(input))
      gb.accumulate(input, gb.builder.create<SliceOp>(gb.loc(), typeOf(input), dy, axis,
                                                      offset, offset + size));
    offset += size;
  }
  return success();
}

// The slice's gradient is dy between zeros for the parts it dropped; the
// zeros take the shape of those parts of the input.
void differentiateSlice(SliceOp op, Value dy, GradientBuilder &gb) {
  Value x = op.getInput();
  int64_t axis = op.getAxis();
  int64_t size = shapeOf(x)[size_t(axis)];
  Value zero = gb.scalar(0, elementOf(x));
  auto zerosLike = [&](int64_t start, int64_t limit) {
    SmallVector<int64_t> shape(shapeOf(x));
    shape[size_t(axis)] = limit - start;
    auto type = RankedTensorType::get(shape, elementOf(x));
    if (type.hasStaticShape())
      return gb.zeros(type);
    Value part = gb.builder.create<SliceOp>(gb.loc(), type, x, axis, start, limit);
    return gb.broadcastLike(zero, part);
  };
  SmallVector<Value> pieces;
  if (op.getStart() > 0)
    pieces.push_back(zerosLike(0, op.getStart()));
  pieces.push_back(dy);
  if (op.getLimit() < size)
    pieces.push_back(zerosLike(op.getLimit(), size));
  gb.accumulate(x, pieces.size() == 1
                       ? dy
                       : gb.builder.create<ConcatOp>(gb.loc(), typeOf(x), pieces, axis)
                             .getResult());
}

} // namespace

std::optional<LogicalResult> differentiatePrimitiveOp(Operation *op,
                                                      ArrayRef<Value> resultGradients,
                                                      GradientBuilder &gb) {
  Value dy = resultGradients.empty() ? Value() : resultGradients.front();
  auto done = [](auto...) -> std::optional<LogicalResult> { return success(); };
  return OpRuleSwitch(op, gb.probing)
      .Case([&](AddOp add) {
        gb.accumulate(add.getLhs(), dy);
        gb.accumulate(add.getRhs(), dy);
        return done();
      })
      .Case([&](SubOp sub) {
        gb.accumulate(sub.getLhs(), dy);
        if (gb.isActive(sub.getRhs()))
          gb.accumulate(sub.getRhs(), gb.neg(dy));
        return done();
      })
      .Case([&](MulOp mul) {
        if (gb.isActive(mul.getLhs()))
          gb.accumulate(mul.getLhs(), gb.mul(dy, mul.getRhs()));
        if (gb.isActive(mul.getRhs()))
          gb.accumulate(mul.getRhs(), gb.mul(dy, mul.getLhs()));
        return done();
      })
      .Case([&](DivOp div) {
        if (gb.isActive(div.getLhs()))
          gb.accumulate(div.getLhs(), gb.div(dy, div.getRhs()));
        // d(a / b)/db = -(a / b) / b
        if (gb.isActive(div.getRhs()))
          gb.accumulate(div.getRhs(),
                        gb.neg(gb.div(gb.mul(dy, div.getResult()), div.getRhs())));
        return done();
      })
      .Case([&](MaxOp max) {
        differentiateExtremum(max, dy, ComparePredicate::ge, gb);
        return done();
      })
      .Case([&](MinOp min) {
        differentiateExtremum(min, dy, ComparePredicate::le, gb);
        return done();
      })
      .Case([&](NegOp neg) {
        gb.accumulate(neg.getInput(), gb.neg(dy));
        return done();
      })
      .Case([&](ExpOp exp) {
        gb.accumulate(exp.getInput(), gb.mul(dy, exp.getResult()));
        return done();
      })
      .Case([&](LogOp log) {
        gb.accumulate(log.getInput(), gb.div(dy, log.getInput()));
        return done();
      })
      .Case([&](TanhOp tanh) {
        Value y = tanh.getResult();
        Value one = gb.scalar(1, elementOf(y));
        gb.accumulate(tanh.getInput(), gb.mul(dy, gb.sub(one, gb.mul(y, y))));
        return done();
      })
      .Case([&](RsqrtOp rsqrt) {
        // d(x^-1/2)/dx = -x^-3/2 / 2 = -y^3 / 2
        Value y = rsqrt.getResult();
        Value cube = gb.mul(gb.mul(y, y), y);
        gb.accumulate(rsqrt.getInput(),
                      gb.mul(dy, gb.mul(cube, gb.scalar(-0.5, elementOf(y)))));
        return done();
      })
      .Case([&](SqrtOp sqrt) {
        // d(sqrt x)/dx = 1 / (2 sqrt x)
        Value y = sqrt.getResult();
        gb.accumulate(sqrt.getInput(), gb.div(dy, gb.mul(y, gb.scalar(2, elementOf(y)))));
        return done();
      })
      .Case([&](SiluOp silu) {
        // d(x s(x))/dx = s (1 + x (1 - s)) with s = sigmoid(x) = 1 / (1 + exp(-x))
        Value x = silu.getInput();
        Value one = gb.scalar(1, elementOf(x));
        Value s = gb.div(one, gb.add(one, gb.exp(gb.neg(x))));
        gb.accumulate(x, gb.mul(dy, gb.mul(s, gb.add(one, gb.mul(x, gb.sub(one, s))))));
        return done();
      })
      .Case([&](ErfOp erf) {
        Value x = erf.getInput();
        Value density = gb.mul(gb.exp(gb.neg(gb.mul(x, x))),
                               gb.scalar(2 / std::sqrt(M_PI), elementOf(x)));
        gb.accumulate(x, gb.mul(dy, density));
        return done();
      })
      .Case([&](SelectOp select) {
        Value zero = gb.scalar(0, elementOf(dy));
        if (gb.isActive(select.getOnTrue()))
          gb.accumulate(select.getOnTrue(), gb.select(select.getCondition(), dy, zero));
        if (gb.isActive(select.getOnFalse()))
          gb.accumulate(select.getOnFalse(), gb.select(select.getCondition(), zero, dy));
        return done();
      })
      .Case([&](MatmulOp matmul) { return differentiateMatmul(matmul, dy, gb); })
      .Case([&](ReduceSumOp reduce) {
        Value spread = reduce.getKeepDims() ? dy : gb.expandDim(dy, reduce.getAxis());
        gb.accumulate(reduce.getInput(), gb.broadcastLike(spread, reduce.getInput()));
        return done();
      })
      .Case([&](ReduceMaxOp reduce) {
        differentiateReduceMax(reduce, dy, gb);
        return done();
      })
      .Case([&](SoftmaxOp softmax) {
        // dx = y * (dy - sum(dy * y))
        Value y = softmax.getResult();
        Value dot = gb.reduceSum(gb.mul(dy, y), softmax.getAxis(), /*keepDims=*/true);
        gb.accumulate(softmax.getInput(), gb.mul(y, gb.sub(dy, dot)));
        return done();
      })
      .Case([&](TransposeOp transpose) {
        ArrayRef<int64_t> permutation = transpose.getPermutation();
        SmallVector<int64_t> inverse(permutation.size());
        for (auto [i, axis] : llvm::enumerate(permutation))
          inverse[size_t(axis)] = int64_t(i);
        gb.accumulate(transpose.getInput(), gb.transpose(dy, inverse));
        return done();
      })
      .Case([&](ReshapeOp reshape) {
        gb.accumulate(reshape.getInput(), gb.reshape(dy, typeOf(reshape.getInput())));
        return done();
      })
      .Case([&](BroadcastLikeOp broadcast) {
        gb.accumulate(broadcast.getInput(), dy);
        return done();
      })
      .Case([&](ConcatOp concat) { return differentiateConcat(concat, dy, gb); })
      .Case([&](SliceOp slice) {
        differentiateSlice(slice, dy, gb);
        return done();
      })
      .Case([&](CastOp cast) {
        gb.accumulate(cast.getInput(), gb.cast(dy, elementOf(cast.getInput())));
        return done();
      })
      .Case<ParamLoadOp, ConstantOp>([&](Operation *) { return done(); })
      .Default();
}

} // namespace mlir::lmc::autodiff
