//===- FlopCount.cpp - the arithmetic a function does on given inputs -----===//

#include "compiler/eval/FlopCount.h"

#include "compiler/eval/EvalOps.h"

#include "dialects/lmc/IR/LmcOps.h"

namespace mlir::lmc::eval {

static double elements(const EvalTensor &tensor) {
  return double(tensor.numElements());
}

FailureOr<FlopCount> countFlops(func::FuncOp function,
                                ArrayRef<EvalTensor> inputs,
                                Parameters &parameters) {
  FlopCount count;
  auto observe = [&](Operation *op, const EvalFrame &frame) {
    if (isa<ConstantOp, ParamLoadOp, ReshapeOp>(op))
      return; // no arithmetic
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      const EvalTensor &lhs = frame.get(matmul.getLhs());
      int64_t k = matmul.getTransposeLhs() ? lhs.shape[lhs.shape.size() - 2]
                                           : lhs.shape.back();
      count.matmul += 2.0 * elements(frame.get(matmul.getResult())) * double(k);
      return;
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      const EvalTensor &q = frame.get(attention.getQuery());
      const EvalTensor &k = frame.get(attention.getKey());
      const EvalTensor &v = frame.get(attention.getValue());
      size_t rank = q.shape.size();
      double heads = double(q.shape[rank - 2]);
      double perPair = 2.0 * double(q.shape.back()) + 2.0 * double(v.shape.back());
      double pairs = 0;
      if (attention.isPacked()) {
        const EvalTensor &cu = frame.get(attention.getCuSeqlens());
        for (size_t s = 0; s + 1 < cu.integers.size(); ++s) {
          double length = double(cu.integers[s + 1] - cu.integers[s]);
          pairs += attention.getCausal() ? length * (length + 1) / 2 : length * length;
        }
      } else {
        double queries = double(q.shape[1]), keys = double(k.shape[1]);
        pairs = double(q.shape[0]) *
                (attention.getCausal() ? queries * (keys + 1) / 2 : queries * keys);
      }
      count.attention += pairs * heads * perPair;
      return;
    }
    for (Value result : op->getResults())
      if (frame.values.count(result))
        count.other += elements(frame.get(result));
  };
  if (failed(evaluate(function, inputs, parameters, observe)))
    return failure();
  return count;
}

} // namespace mlir::lmc::eval
