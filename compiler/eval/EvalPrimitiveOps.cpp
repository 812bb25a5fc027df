//===- EvalPrimitiveOps.cpp - evaluating primitive ops --------------------===//

#include "compiler/eval/EvalOps.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"

#include "dialects/lmc/IR/LmcOps.h"


#include <cmath>

namespace mlir::lmc::eval {
namespace {

/// Maps output elements to operand elements under NumPy broadcasting.
struct Broadcast {
  SmallVector<int64_t> shape, outputStrides;
  /// Per operand: a stride per output dimension, 0 where it broadcasts.
  SmallVector<SmallVector<int64_t>> strides;

  int64_t offset(size_t operand, int64_t linear) const {
    int64_t offset = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      offset += (linear / outputStrides[d]) % shape[d] * strides[operand][d];
    return offset;
  }
};

FailureOr<Broadcast> broadcast(Operation *op,
                               ArrayRef<const EvalTensor *> operands) {
  Broadcast result;
  size_t rank = 0;
  for (const EvalTensor *operand : operands)
    rank = std::max(rank, operand->shape.size());
  result.shape.assign(rank, 1);
  for (const EvalTensor *operand : operands) {
    size_t offset = rank - operand->shape.size();
    for (auto [i, dim] : llvm::enumerate(operand->shape)) {
      int64_t &out = result.shape[offset + i];
      if (dim != 1 && out != 1 && dim != out) {
        InFlightDiagnostic diag = op->emitError("operand shapes ");
        for (auto [j, each] : llvm::enumerate(operands))
          diag << (j ? " and " : "") << formatRuntimeShape(each->shape);
        return diag << " do not broadcast";
      }
      if (dim != 1)
        out = dim;
    }
  }
  result.outputStrides = stridesOf(result.shape);
  for (const EvalTensor *operand : operands) {
    SmallVector<int64_t> own = stridesOf(operand->shape);
    SmallVector<int64_t> aligned(rank, 0);
    size_t offset = rank - operand->shape.size();
    for (size_t i = 0; i < operand->shape.size(); ++i)
      aligned[offset + i] = operand->shape[i] == 1 ? 0 : own[i];
    result.strides.push_back(aligned);
  }
  return result;
}

LogicalResult evalBinary(Operation *op, EvalFrame &frame,
                         double (*real)(double, double),
                         int64_t (*integer)(int64_t, int64_t)) {
  const EvalTensor &lhs = frame.get(op->getOperand(0));
  const EvalTensor &rhs = frame.get(op->getOperand(1));
  FailureOr<Broadcast> shape = broadcast(op, {&lhs, &rhs});
  if (failed(shape))
    return failure();
  EvalTensor out = EvalTensor::zeros(shape->shape, lhs.elementType);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t a = shape->offset(0, i), b = shape->offset(1, i);
    if (out.isInteger())
      out.integers[size_t(i)] = integer(lhs.integers[size_t(a)], rhs.integers[size_t(b)]);
    else
      out.reals[size_t(i)] = real(lhs.reals[size_t(a)], rhs.reals[size_t(b)]);
  }
  return frame.set(op, op->getResult(0), std::move(out));
}

// Only neg takes integers (the other unary ops are float-only by their
// declaration), so `integer` may be null.
LogicalResult evalUnary(Operation *op, EvalFrame &frame,
                        double (*real)(double),
                        int64_t (*integer)(int64_t) = nullptr) {
  EvalTensor out = frame.get(op->getOperand(0));
  for (double &value : out.reals)
    value = real(value);
  for (int64_t &value : out.integers)
    value = integer(value);
  return frame.set(op, op->getResult(0), std::move(out));
}

LogicalResult evalCompare(CompareOp op, EvalFrame &frame) {
  const EvalTensor &lhs = frame.get(op.getLhs()), &rhs = frame.get(op.getRhs());
  FailureOr<Broadcast> shape = broadcast(op, {&lhs, &rhs});
  if (failed(shape))
    return failure();
  EvalTensor out = EvalTensor::zeros(shape->shape, op.getType().getElementType());
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t a = shape->offset(0, i), b = shape->offset(1, i);
    // Integers compare exactly; doubles cannot hold every i64.
    int order = lhs.isInteger()
                    ? (lhs.integers[size_t(a)] < rhs.integers[size_t(b)]   ? -1
                       : lhs.integers[size_t(a)] > rhs.integers[size_t(b)] ? 1
                                                                          : 0)
                    : (lhs.reals[size_t(a)] < rhs.reals[size_t(b)]   ? -1
                       : lhs.reals[size_t(a)] > rhs.reals[size_t(b)] ? 1
                                                                    : 0);
    bool unordered = !lhs.isInteger() && (std::isnan(lhs.reals[size_t(a)]) ||
                                          std::isnan(rhs.reals[size_t(b)]));
    bool value = false;
    switch (op.getPredicate()) {
    case ComparePredicate::eq: value = !unordered && order == 0; break;
    case ComparePredicate::ne: value = unordered || order != 0; break;
    case ComparePredicate::lt: value = !unordered && order < 0; break;
    case ComparePredicate::le: value = !unordered && order <= 0; break;
    case ComparePredicate::gt: value = !unordered && order > 0; break;
    case ComparePredicate::ge: value = !unordered && order >= 0; break;
    }
    out.integers[size_t(i)] = value;
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalSelect(SelectOp op, EvalFrame &frame) {
  const EvalTensor &condition = frame.get(op.getCondition());
  const EvalTensor &onTrue = frame.get(op.getOnTrue());
  const EvalTensor &onFalse = frame.get(op.getOnFalse());
  FailureOr<Broadcast> shape = broadcast(op, {&condition, &onTrue, &onFalse});
  if (failed(shape))
    return failure();
  EvalTensor out = EvalTensor::zeros(shape->shape, onTrue.elementType);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    bool pick = condition.integers[size_t(shape->offset(0, i))] != 0;
    const EvalTensor &from = pick ? onTrue : onFalse;
    int64_t at = shape->offset(pick ? 1 : 2, i);
    if (out.isInteger())
      out.integers[size_t(i)] = from.integers[size_t(at)];
    else
      out.reals[size_t(i)] = from.reals[size_t(at)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalBroadcastLike(BroadcastLikeOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  const EvalTensor &like = frame.get(op.getLike());
  FailureOr<Broadcast> shape = broadcast(op, {&input, &like});
  if (failed(shape))
    return failure();
  if (shape->shape != like.shape)
    return op.emitError("input of shape ")
           << formatRuntimeShape(input.shape) << " does not broadcast to "
           << formatRuntimeShape(like.shape);
  EvalTensor out = EvalTensor::zeros(shape->shape, input.elementType);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t at = shape->offset(0, i);
    if (out.isInteger())
      out.integers[size_t(i)] = input.integers[size_t(at)];
    else
      out.reals[size_t(i)] = input.reals[size_t(at)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalMatmul(MatmulOp op, EvalFrame &frame) {
  const EvalTensor &lhs = frame.get(op.getLhs()), &rhs = frame.get(op.getRhs());
  size_t lr = lhs.shape.size(), rr = rhs.shape.size();
  bool tl = op.getTransposeLhs(), tr = op.getTransposeRhs();
  int64_t m = tl ? lhs.shape[lr - 1] : lhs.shape[lr - 2];
  int64_t k = tl ? lhs.shape[lr - 2] : lhs.shape[lr - 1];
  int64_t rk = tr ? rhs.shape[rr - 1] : rhs.shape[rr - 2];
  int64_t n = tr ? rhs.shape[rr - 2] : rhs.shape[rr - 1];
  SmallVector<int64_t> batch(lhs.shape.begin(), lhs.shape.end() - 2);
  if (k != rk || (rr == lr && !llvm::equal(batch, ArrayRef<int64_t>(rhs.shape).drop_back(2))))
    return op.emitError("operands of shapes ")
           << formatRuntimeShape(lhs.shape) << " and "
           << formatRuntimeShape(rhs.shape) << " do not multiply";
  SmallVector<int64_t> shape(batch);
  shape.append({m, n});
  EvalTensor out = EvalTensor::zeros(shape, lhs.elementType);
  int64_t batches = 1;
  for (int64_t dim : batch)
    batches *= dim;
  for (int64_t b = 0; b < batches; ++b) {
    int64_t lhsBase = b * m * k, rhsBase = rr == 2 ? 0 : b * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += lhs.real(lhsBase + (tl ? p * m + i : i * k + p)) *
                 rhs.real(rhsBase + (tr ? j * k + p : p * n + j));
        if (out.isInteger())
          out.integers[size_t(b * m * n + i * n + j)] = int64_t(sum);
        else
          out.reals[size_t(b * m * n + i * n + j)] = sum;
      }
  }
  return frame.set(op, op.getResult(), std::move(out));
}

/// Calls `visit(outer, inner)` for each line along `axis`: element j of a
/// line is at outer * size * inner + j * inner + inner offset.
template <typename Visit>
void forEachLine(ArrayRef<int64_t> shape, int64_t axis, Visit visit) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      visit(o * shape[size_t(axis)] * inner + i, inner, o * inner + i);
}

LogicalResult evalReduce(Operation *op, EvalFrame &frame, int64_t axis,
                         bool keepDims, bool isMax) {
  const EvalTensor &input = frame.get(op->getOperand(0));
  SmallVector<int64_t> shape(input.shape);
  int64_t size = shape[size_t(axis)];
  if (keepDims)
    shape[size_t(axis)] = 1;
  else
    shape.erase(shape.begin() + axis);
  EvalTensor out = EvalTensor::zeros(shape, input.elementType);
  forEachLine(input.shape, axis, [&](int64_t start, int64_t stride, int64_t at) {
    double real = isMax ? -INFINITY : 0;
    int64_t integer = isMax ? INT64_MIN : 0;
    for (int64_t j = 0; j < size; ++j) {
      int64_t index = start + j * stride;
      if (input.isInteger())
        integer = isMax ? std::max(integer, input.integers[size_t(index)])
                        : integer + input.integers[size_t(index)];
      else
        real = isMax ? std::max(real, input.reals[size_t(index)])
                     : real + input.reals[size_t(index)];
    }
    if (out.isInteger())
      out.integers[size_t(at)] = integer;
    else
      out.reals[size_t(at)] = real;
  });
  return frame.set(op, op->getResult(0), std::move(out));
}

LogicalResult evalSoftmax(SoftmaxOp op, EvalFrame &frame) {
  EvalTensor out = frame.get(op.getInput());
  int64_t size = out.shape[size_t(op.getAxis())];
  forEachLine(out.shape, op.getAxis(), [&](int64_t start, int64_t stride, int64_t) {
    double max = -INFINITY, sum = 0;
    for (int64_t j = 0; j < size; ++j)
      max = std::max(max, out.reals[size_t(start + j * stride)]);
    for (int64_t j = 0; j < size; ++j) {
      double &value = out.reals[size_t(start + j * stride)];
      value = std::exp(value - max);
      sum += value;
    }
    for (int64_t j = 0; j < size; ++j)
      out.reals[size_t(start + j * stride)] /= sum;
  });
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalTranspose(TransposeOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  ArrayRef<int64_t> permutation = op.getPermutation();
  SmallVector<int64_t> shape;
  for (int64_t dim : permutation)
    shape.push_back(input.shape[size_t(dim)]);
  EvalTensor out = EvalTensor::zeros(shape, input.elementType);
  SmallVector<int64_t> inStrides = stridesOf(input.shape), outStrides = stridesOf(shape);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      from += (i / outStrides[d]) % shape[d] * inStrides[size_t(permutation[d])];
    if (out.isInteger())
      out.integers[size_t(i)] = input.integers[size_t(from)];
    else
      out.reals[size_t(i)] = input.reals[size_t(from)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalReshape(ReshapeOp op, EvalFrame &frame) {
  EvalTensor out = frame.get(op.getInput());
  ArrayRef<int64_t> inputType = op.getInput().getType().getShape();
  ArrayRef<int64_t> resultType = op.getType().getShape();
  // Leading dimensions shared by the types pass through (the verifier's rule);
  // one other dynamic dimension takes the remaining elements.
  size_t shared = 0;
  while (shared < inputType.size() && shared < resultType.size() &&
         inputType[shared] == resultType[shared])
    ++shared;
  SmallVector<int64_t> shape(resultType);
  int64_t known = 1;
  std::optional<size_t> inferred;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (ShapedType::isDynamic(shape[d]) && d < shared)
      shape[d] = out.shape[d];
    if (ShapedType::isDynamic(shape[d]))
      inferred = d;
    else
      known *= shape[d];
  }
  int64_t count = out.numElements();
  if (inferred)
    shape[*inferred] = known ? count / known : 0;
  if ((inferred ? known * shape[*inferred] : known) != count)
    return op.emitError("cannot reshape ")
           << formatRuntimeShape(out.shape) << " into " << op.getType();
  out.shape = shape;
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalConcat(ConcatOp op, EvalFrame &frame) {
  int64_t axis = op.getAxis();
  const EvalTensor &first = frame.get(op.getInputs().front());
  SmallVector<int64_t> shape(first.shape);
  shape[size_t(axis)] = 0;
  for (Value input : op.getInputs()) {
    const EvalTensor &tensor = frame.get(input);
    for (size_t d = 0; d < shape.size(); ++d)
      if (int64_t(d) != axis && tensor.shape[d] != first.shape[d])
        return op.emitError("inputs of shapes ")
               << formatRuntimeShape(first.shape) << " and "
               << formatRuntimeShape(tensor.shape) << " do not concatenate";
    shape[size_t(axis)] += tensor.shape[size_t(axis)];
  }
  EvalTensor out = EvalTensor::zeros(shape, first.elementType);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t position = 0;
  for (Value input : op.getInputs()) {
    const EvalTensor &tensor = frame.get(input);
    int64_t chunk = tensor.shape[size_t(axis)] * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < chunk; ++j) {
        int64_t to = o * shape[size_t(axis)] * inner + position * inner + j;
        if (out.isInteger())
          out.integers[size_t(to)] = tensor.integers[size_t(o * chunk + j)];
        else
          out.reals[size_t(to)] = tensor.reals[size_t(o * chunk + j)];
      }
    position += tensor.shape[size_t(axis)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalSlice(SliceOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  int64_t axis = op.getAxis(), start = op.getStart(), limit = op.getLimit();
  if (limit > input.shape[size_t(axis)])
    return op.emitError("limit ")
           << limit << " exceeds the size " << input.shape[size_t(axis)]
           << " of axis " << axis << " at run time";
  SmallVector<int64_t> shape(input.shape);
  shape[size_t(axis)] = limit - start;
  EvalTensor out = EvalTensor::zeros(shape, input.elementType);
  SmallVector<int64_t> inStrides = stridesOf(input.shape), outStrides = stridesOf(shape);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    int64_t from = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t index = (i / outStrides[d]) % shape[d];
      from += (int64_t(d) == axis ? index + start : index) * inStrides[d];
    }
    if (out.isInteger())
      out.integers[size_t(i)] = input.integers[size_t(from)];
    else
      out.reals[size_t(i)] = input.reals[size_t(from)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalCast(CastOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  Type target = op.getType().getElementType();
  EvalTensor out = EvalTensor::zeros(input.shape, target);
  for (int64_t i = 0; i < out.numElements(); ++i) {
    if (target.isInteger(1))
      out.integers[size_t(i)] = input.real(i) != 0;
    else if (out.isInteger())
      out.integers[size_t(i)] = input.isInteger() ? input.integers[size_t(i)]
                                                  : int64_t(std::trunc(input.reals[size_t(i)]));
    else
      out.reals[size_t(i)] = input.real(i);
  }
  return frame.set(op, op.getResult(), std::move(out));
}

} // namespace

std::optional<LogicalResult> evaluatePrimitiveOp(Operation *op, EvalFrame &frame) {
  return OpRuleSwitch(op, frame.probing)
      .Case([&](ConstantOp constant) -> LogicalResult {
        auto attr = llvm::cast<DenseElementsAttr>(constant.getValue());
        EvalTensor out = EvalTensor::zeros(attr.getType().getShape(),
                                           attr.getElementType());
        if (out.isInteger())
          for (auto [i, value] : llvm::enumerate(attr.getValues<APInt>()))
            out.integers[i] = attr.getElementType().isInteger(1)
                                  ? int64_t(value.getZExtValue())
                                  : value.getSExtValue();
        else
          for (auto [i, value] : llvm::enumerate(attr.getValues<APFloat>()))
            out.reals[i] = value.convertToDouble();
        return frame.set(op, constant.getResult(), std::move(out));
      })
      .Case([&](ParamLoadOp load) -> LogicalResult {
        auto parameter = SymbolTable::lookupNearestSymbolFrom<ParameterOp>(
            load, load.getNameAttr());
        FailureOr<const EvalTensor *> value = frame.parameters.get(parameter);
        if (failed(value))
          return failure();
        return frame.set(op, load.getResult(), **value);
      })
      .Case([&](MatmulOp matmul) { return evalMatmul(matmul, frame); })
      .Case([&](AddOp) {
        return evalBinary(op, frame, [](double a, double b) { return a + b; },
                          [](int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); });
      })
      .Case([&](SubOp) {
        return evalBinary(op, frame, [](double a, double b) { return a - b; },
                          [](int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); });
      })
      .Case([&](MulOp) {
        return evalBinary(op, frame, [](double a, double b) { return a * b; },
                          [](int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); });
      })
      .Case([&](DivOp) {
        return evalBinary(op, frame, [](double a, double b) { return a / b; },
                          [](int64_t a, int64_t b) { return b ? a / b : int64_t(0); });
      })
      .Case([&](MaxOp) {
        return evalBinary(op, frame, [](double a, double b) { return std::max(a, b); },
                          [](int64_t a, int64_t b) { return std::max(a, b); });
      })
      .Case([&](MinOp) {
        return evalBinary(op, frame, [](double a, double b) { return std::min(a, b); },
                          [](int64_t a, int64_t b) { return std::min(a, b); });
      })
      .Case([&](ExpOp) { return evalUnary(op, frame, [](double x) { return std::exp(x); }); })
      .Case([&](TanhOp) { return evalUnary(op, frame, [](double x) { return std::tanh(x); }); })
      .Case([&](RsqrtOp) { return evalUnary(op, frame, [](double x) { return 1 / std::sqrt(x); }); })
      .Case([&](ErfOp) { return evalUnary(op, frame, [](double x) { return std::erf(x); }); })
      .Case([&](LogOp) { return evalUnary(op, frame, [](double x) { return std::log(x); }); })
      .Case([&](SqrtOp) { return evalUnary(op, frame, [](double x) { return std::sqrt(x); }); })
      .Case([&](SiluOp) { return evalUnary(op, frame, [](double x) { return x / (1 + std::exp(-x)); }); })
      .Case([&](BroadcastLikeOp broadcastLike) { return evalBroadcastLike(broadcastLike, frame); })
      .Case([&](NegOp) {
        return evalUnary(op, frame, [](double x) { return -x; },
                         [](int64_t x) { return int64_t(0 - uint64_t(x)); });
      })
      .Case([&](CompareOp compare) { return evalCompare(compare, frame); })
      .Case([&](SelectOp select) { return evalSelect(select, frame); })
      .Case([&](ReduceSumOp reduce) {
        return evalReduce(op, frame, reduce.getAxis(), reduce.getKeepDims(), false);
      })
      .Case([&](ReduceMaxOp reduce) {
        return evalReduce(op, frame, reduce.getAxis(), reduce.getKeepDims(), true);
      })
      .Case([&](SoftmaxOp softmax) { return evalSoftmax(softmax, frame); })
      .Case([&](TransposeOp transpose) { return evalTranspose(transpose, frame); })
      .Case([&](ReshapeOp reshape) { return evalReshape(reshape, frame); })
      .Case([&](ConcatOp concat) { return evalConcat(concat, frame); })
      .Case([&](SliceOp slice) { return evalSlice(slice, frame); })
      .Case([&](CastOp cast) { return evalCast(cast, frame); })
      .Default();
}

} // namespace mlir::lmc::eval
