//===- FlopCount.h - the arithmetic a function does on given inputs -*- C++ -*-===//
//
// Counts floating-point operations while the evaluator runs a function, with
// the shapes the inputs give at run time: what a backend executing the same
// ops (or kernels) would compute, padding included.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_EVAL_FLOPCOUNT_H
#define LMC_COMPILER_EVAL_FLOPCOUNT_H

#include "compiler/eval/Evaluator.h"

namespace mlir::lmc::eval {

struct FlopCount {
  /// matmul: 2 M N K per batch entry.
  double matmul = 0;
  /// attention: 4 D (plus 4 Dv) per query-key pair computed, per head;
  /// padded attention computes every pair of the padded batch, packed
  /// attention only the pairs within each sequence (causal: half).
  double attention = 0;
  /// every other op: one per output element.
  double other = 0;

  double total() const { return matmul + attention + other; }
};

/// Runs `function` and counts its arithmetic; fails as evaluate() does.
FailureOr<FlopCount> countFlops(func::FuncOp function,
                                ArrayRef<EvalTensor> inputs,
                                Parameters &parameters);

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_FLOPCOUNT_H
