//===- Evaluator.cpp - run lmc functions in float64 -----------------------===//

#include "compiler/eval/Evaluator.h"

#include "compiler/eval/EvalOps.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::lmc::eval {

std::string formatRuntimeShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(shape))
    text += (i ? ", " : "") + std::to_string(dim);
  return text + "]";
}

LogicalResult EvalFrame::set(Operation *op, Value result, EvalTensor tensor) {
  auto type = llvm::cast<RankedTensorType>(result.getType());
  bool matches = int64_t(tensor.shape.size()) == type.getRank();
  for (int64_t i = 0; matches && i < type.getRank(); ++i)
    matches = type.isDynamicDim(i) || type.getDimSize(i) == tensor.shape[size_t(i)];
  if (!matches)
    return op->emitError("evaluates to shape ")
           << formatRuntimeShape(tensor.shape) << ", but its type is " << type;
  tensor.elementType = type.getElementType();
  if (!exact)
    tensor.roundToElementType();
  values[result] = std::move(tensor);
  return success();
}

static LogicalResult checkInput(func::FuncOp function, unsigned index,
                                const EvalTensor &input) {
  auto type = llvm::cast<RankedTensorType>(function.getArgumentTypes()[index]);
  bool matches = int64_t(input.shape.size()) == type.getRank();
  for (int64_t i = 0; matches && i < type.getRank(); ++i)
    matches = type.isDynamicDim(i) || type.getDimSize(i) == input.shape[size_t(i)];
  if (!matches)
    return function.emitError("input #")
           << index << " has shape " << formatRuntimeShape(input.shape)
           << ", but the argument's type is " << type;
  if (input.isInteger() != !llvm::isa<FloatType>(type.getElementType()))
    return function.emitError("input #")
           << index << " holds " << (input.isInteger() ? "integers" : "floats")
           << ", but the argument's type is " << type;
  return success();
}

/// Runs the ops of `block` in `frame` up to its terminator (a return or a
/// kernel's yield) and returns the terminator's operands.
/// The rule of `op`'s family; std::nullopt when no family has one.
static std::optional<LogicalResult> evaluateOp(Operation *op, EvalFrame &frame) {
  std::optional<LogicalResult> done = evaluatePrimitiveOp(op, frame);
  if (!done)
    done = evaluateCompositeOp(op, frame);
  if (!done)
    done = evaluateSequenceOp(op, frame);
  if (!done)
    done = evaluateFeatureColumnOp(op, frame);
  if (!done)
    done = evaluateTrainingOp(op, frame);
  return done;
}

bool hasEvaluationRule(Operation *op) {
  Parameters none = Parameters::fromSeed(0);
  EvalFrame probe(none, /*exact=*/false);
  probe.probing = true;
  return evaluateOp(op, probe).has_value();
}

static FailureOr<SmallVector<EvalTensor>> runBlock(Block &block,
                                                   EvalFrame &frame,
                                                   EvalObserver observer) {
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      SmallVector<EvalTensor> results;
      for (Value value : op.getOperands())
        results.push_back(frame.get(value));
      return results;
    }
    if (auto kernel = llvm::dyn_cast<KernelOp>(op)) {
      // A kernel computes its region on its inputs.
      EvalFrame inner(frame.parameters, frame.exact);
      for (auto [argument, input] :
           llvm::zip(kernel.getBody().getArguments(), kernel.getInputs()))
        inner.values[argument] = frame.get(input);
      FailureOr<SmallVector<EvalTensor>> results =
          runBlock(kernel.getBody().front(), inner, observer);
      if (failed(results))
        return failure();
      for (auto [result, tensor] : llvm::zip(kernel.getResults(), *results))
        frame.values[result] = std::move(tensor);
      continue;
    }
    std::optional<LogicalResult> done = evaluateOp(&op, frame);
    if (!done)
      return op.emitError("the evaluator cannot run this op");
    if (failed(*done))
      return failure();
    if (observer)
      observer(&op, frame);
  }
  return block.getParentOp()->emitError("has no terminator");
}

FailureOr<SmallVector<EvalTensor>> evaluate(func::FuncOp function,
                                            ArrayRef<EvalTensor> inputs,
                                            Parameters &parameters,
                                            EvalObserver observer,
                                            EvalOptions options) {
  if (inputs.size() != function.getNumArguments())
    return function.emitError("expects ")
           << function.getNumArguments() << " inputs, got " << inputs.size();
  EvalFrame frame(parameters, options.exact);
  for (auto [index, input] : llvm::enumerate(inputs)) {
    if (failed(checkInput(function, index, input)))
      return failure();
    EvalTensor copy = input;
    copy.elementType =
        llvm::cast<ShapedType>(function.getArgumentTypes()[index]).getElementType();
    // An argument holds values of its element type, whatever came in.
    if (!options.exact)
      copy.roundToElementType();
    frame.values[function.getArgument(index)] = std::move(copy);
  }
  return runBlock(function.getBody().front(), frame, observer);
}

} // namespace mlir::lmc::eval
