//===- EvalOps.h - how the evaluator runs each op family ---------*- C++ -*-===//
//
// Internal to the evaluator: one function per op family, each reading its
// operands from the frame and writing its results. A failure has already
// been reported at the op's location.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_EVAL_EVALOPS_H
#define LMC_COMPILER_EVAL_EVALOPS_H

#include "compiler/eval/EvalTensor.h"
#include "compiler/eval/Parameters.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::lmc::eval {

/// The values of one function invocation.
struct EvalFrame {
  EvalFrame(Parameters &parameters, bool exact)
      : parameters(parameters), exact(exact) {}

  llvm::DenseMap<Value, EvalTensor> values;
  Parameters &parameters;
  /// Only ask whether the families have a rule for an op (OpRuleSwitch).
  bool probing = false;
  /// Results stay in f64 (EvalOptions::exact).
  bool exact;

  const EvalTensor &get(Value value) const { return values.find(value)->second; }
  /// Stores `tensor` as `result`, rounded to its element type unless
  /// `exact`, after
  /// checking its shape against the result's static dimensions.
  LogicalResult set(Operation *op, Value result, EvalTensor tensor);
};

/// Returns std::nullopt when `op` is not of the family.
std::optional<LogicalResult> evaluatePrimitiveOp(Operation *op, EvalFrame &frame);
std::optional<LogicalResult> evaluateCompositeOp(Operation *op, EvalFrame &frame);
std::optional<LogicalResult> evaluateSequenceOp(Operation *op, EvalFrame &frame);
std::optional<LogicalResult> evaluateFeatureColumnOp(Operation *op, EvalFrame &frame);
std::optional<LogicalResult> evaluateTrainingOp(Operation *op, EvalFrame &frame);

/// Shape helpers shared by the families.
std::string formatRuntimeShape(ArrayRef<int64_t> shape);

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_EVALOPS_H
