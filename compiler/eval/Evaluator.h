//===- Evaluator.h - run lmc functions in float64 ----------------*- C++ -*-===//
//
// The reference evaluator: executes any function of the lmc dialect, one op
// at a time, computing in f64 and rounding every result to its element type.
// It is slow on purpose and simple enough to trust; passes and backends are
// checked against it.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_EVAL_EVALUATOR_H
#define LMC_COMPILER_EVAL_EVALUATOR_H

#include "compiler/eval/EvalTensor.h"
#include "compiler/eval/Parameters.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::lmc::eval {

/// Runs `function` on `inputs` (one per argument, shapes matching the
/// argument types' static dimensions). Problems found while running (a
/// runtime shape that contradicts a type, lengths longer than the padded
/// length, malformed cu_seqlens, ...) are reported at the op's location.
/// Called after each op has run, with the values computed so far (those of
/// the enclosing kernel for ops inside a kernel).
using EvalObserver = llvm::function_ref<void(Operation *op,
                                             const struct EvalFrame &frame)>;

struct EvalOptions {
  /// Keeps every float in f64 instead of rounding results and inputs to
  /// their element types: what finite-difference gradient checks need.
  bool exact = false;
};

FailureOr<SmallVector<EvalTensor>> evaluate(func::FuncOp function,
                                            ArrayRef<EvalTensor> inputs,
                                            Parameters &parameters,
                                            EvalObserver observer = nullptr,
                                            EvalOptions options = {});

/// Whether the evaluator has a rule for `op`'s kind (without running it:
/// `op` may be a bare instance without operands).
bool hasEvaluationRule(Operation *op);

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_EVALUATOR_H
