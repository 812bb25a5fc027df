//===- Autodiff.cpp - reverse-mode gradients of a loss --------------------===//
//
// loss function => training step returning the loss and every parameter's
// gradient
//
// The ops on a path from a parameter to the loss are visited in reverse
// block order; each op's rule (passes/autodiff/) turns its results'
// gradients into its operands'. Gradient ops are appended before the
// return, so the forward ops keep their order and the backward follows.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;
using namespace mlir::lmc::autodiff;

namespace {

bool isFloatTensor(Value value) {
  auto type = llvm::dyn_cast<RankedTensorType>(value.getType());
  return type && llvm::isa<FloatType>(type.getElementType());
}

/// Float values that depend on a parameter and that `loss` depends on.
llvm::DenseSet<Value> activeValues(Block &body, Value loss) {
  llvm::DenseSet<Value> varied;
  for (Operation &op : body) {
    bool fromParameter = isa<ParamLoadOp>(op) ||
                         llvm::any_of(op.getOperands(), [&](Value operand) {
                           return varied.contains(operand);
                         });
    if (fromParameter)
      for (Value result : op.getResults())
        if (isFloatTensor(result))
          varied.insert(result);
  }
  llvm::DenseSet<Value> useful{loss}, active;
  for (Operation &op : llvm::reverse(body)) {
    if (llvm::none_of(op.getResults(), [&](Value r) { return useful.contains(r); }))
      continue;
    for (Value operand : op.getOperands())
      useful.insert(operand);
  }
  for (Value value : varied)
    if (useful.contains(value))
      active.insert(value);
  return active;
}

std::optional<LogicalResult> differentiateOp(Operation *op, ArrayRef<Value> gradients,
                                             GradientBuilder &gb) {
  if (std::optional<LogicalResult> done = differentiatePrimitiveOp(op, gradients, gb))
    return done;
  if (std::optional<LogicalResult> done = differentiateCompositeOp(op, gradients, gb))
    return done;
  return differentiateSequenceOp(op, gradients, gb);
}

/// The results the step returns for one parameter.
struct ParameterGradient {
  SmallVector<Value> values;
  SmallVector<StringRef> sparseParts; // "" for a dense gradient
};

FailureOr<ParameterGradient> gradientOfParameter(ParameterOp parameter,
                                                 ArrayRef<ParamLoadOp> loads,
                                                 GradientBuilder &gb) {
  ParameterGradient result;
  Value dense;
  for (ParamLoadOp load : loads) {
    if (Value gradient = gb.gradientOf(load.getResult()))
      dense = dense ? gb.add(dense, gradient) : gradient;
    auto sparse = gb.sparseGradients().find(load.getResult());
    if (sparse == gb.sparseGradients().end())
      continue;
    for (const SparseRows &part : sparse->second) {
      result.values.append({part.indices, part.rows});
      result.sparseParts.append({"indices", "rows"});
    }
  }
  if (dense && !result.values.empty())
    return parameter.emitError("lmc-autodiff: parameter @")
           << parameter.getSymName()
           << " is both gathered from (row-sparse gradient) and used whole "
              "(dense gradient); combining the two is not supported";
  if (result.values.empty()) {
    // A parameter the loss does not reach still gets its (zero) gradient,
    // so every parameter the step reads has one.
    gb.setLoc(parameter.getLoc());
    result.values.push_back(dense ? dense
                                  : gb.zeros(llvm::cast<RankedTensorType>(parameter.getType())));
    result.sparseParts.push_back("");
  }
  return result;
}

LogicalResult differentiate(func::FuncOp function, unsigned lossIndex) {
  Block &body = function.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(lossIndex);
  auto lossType = llvm::cast<RankedTensorType>(loss.getType());
  if (lossType.getRank() != 0 || !lossType.getElementType().isF32())
    return function.emitError("lmc-autodiff: the loss (result #")
           << lossIndex << ") must be a tensor<f32> scalar, got " << lossType;
  for (Operation &op : body)
    if (isa<KernelOp>(op))
      return op.emitError("lmc-autodiff: runs before lmc-form-kernels, on ops "
                          "outside kernels");

  MLIRContext *context = function.getContext();
  auto scalarType = RankedTensorType::get({}, Float32Type::get(context));
  unsigned scaleIndex = function.getNumArguments();
  function.insertArgument(
      scaleIndex, scalarType,
      DictionaryAttr::get(context, {NamedAttribute(StringAttr::get(context, "lmc.loss_scale"),
                                                   UnitAttr::get(context))}),
      function.getLoc());

  llvm::DenseSet<Value> active = activeValues(body, loss);
  if (!active.contains(loss))
    return function.emitError("lmc-autodiff: the loss does not depend on any parameter");
  SmallVector<Operation *> activeOps;
  for (Operation &op : body)
    if (llvm::any_of(op.getResults(), [&](Value r) { return active.contains(r); }))
      activeOps.push_back(&op);

  OpBuilder builder(ret);
  GradientBuilder gb(builder, std::move(active));
  gb.setLoc(loss.getLoc());
  gb.accumulate(loss, function.getArgument(scaleIndex));
  for (Operation *op : llvm::reverse(activeOps)) {
    SmallVector<Value> gradients;
    for (Value result : op->getResults())
      gradients.push_back(gb.gradientOf(result));
    if (llvm::all_of(gradients, [](Value g) { return !g; }))
      continue;
    gb.setLoc(op->getLoc());
    std::optional<LogicalResult> done = differentiateOp(op, gradients, gb);
    if (!done)
      return op->emitError("lmc-autodiff: no gradient rule for '")
             << op->getName() << "'";
    if (failed(*done))
      return failure();
  }

  // Gradients per parameter, in the module's parameter order.
  auto module = function->getParentOfType<ModuleOp>();
  llvm::MapVector<StringRef, SmallVector<ParamLoadOp>> loads;
  function.walk([&](ParamLoadOp load) {
    if (isFloatTensor(load.getResult()))
      loads[load.getName()].push_back(load);
  });
  SmallVector<Value> results(ret.getOperands());
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < function.getNumResults(); ++i)
    resultAttrs.push_back(function.getResultAttrDict(i)
                              ? function.getResultAttrDict(i)
                              : DictionaryAttr::get(context));
  for (ParameterOp parameter : module.getOps<ParameterOp>()) {
    auto found = loads.find(parameter.getSymName());
    if (found == loads.end())
      continue;
    FailureOr<ParameterGradient> gradient =
        gradientOfParameter(parameter, found->second, gb);
    if (failed(gradient))
      return failure();
    for (auto [value, part] : llvm::zip(gradient->values, gradient->sparseParts)) {
      NamedAttrList attrs;
      attrs.append("lmc.gradient", StringAttr::get(context, parameter.getSymName()));
      if (!part.empty())
        attrs.append("lmc.sparse", StringAttr::get(context, part));
      results.push_back(value);
      resultAttrs.push_back(attrs.getDictionary(context));
    }
  }
  builder.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  function.setType(FunctionType::get(context, function.getArgumentTypes(),
                                     ValueRange(results).getTypes()));
  function.setAllResultAttrs(resultAttrs);
  return success();
}

struct AutodiffPass : mlir::lmc::impl::AutodiffPassBase<AutodiffPass> {
  void runOnOperation() override {
    for (auto function : llvm::to_vector(getOperation().getOps<func::FuncOp>())) {
      std::optional<unsigned> lossIndex;
      for (unsigned i = 0; i < function.getNumResults(); ++i)
        if (function.getResultAttr(i, "lmc.loss"))
          lossIndex = i;
      if (lossIndex && failed(differentiate(function, *lossIndex)))
        return signalPassFailure();
    }
  }
};

} // namespace

bool mlir::lmc::autodiff::hasGradientRule(Operation *op) {
  OpBuilder builder(op->getContext());
  GradientBuilder probe(builder, {});
  probe.probing = true;
  return differentiateOp(op, {}, probe).has_value();
}
