//===- AttachLoss.cpp - the training loss on a model output ---------------===//
//
// model function => loss function (label argument in, mean loss out)
//
// The losses are written with primitive lmc ops in their numerically stable
// forms, so --lmc-autodiff differentiates them with the ordinary rules and
// every backend runs them.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/autodiff/GradientBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_ATTACHLOSSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;
using autodiff::GradientBuilder;
using autodiff::shapeOf;

namespace {

/// The mean of every element of `x`, whose dimensions may be dynamic.
Value meanOfAll(GradientBuilder &gb, Value x) {
  Type element = autodiff::typeOf(x).getElementType();
  Value sum = x, count = gb.broadcastLike(gb.scalar(1, element), x);
  while (!shapeOf(sum).empty()) {
    sum = gb.reduceSum(sum, 0, /*keepDims=*/false);
    count = gb.reduceSum(count, 0, /*keepDims=*/false);
  }
  return gb.div(sum, count);
}

// max(z, 0) - z y + log(1 + exp(-|z|)): binary cross-entropy of
// sigmoid(z), without overflow for large |z|.
Value binaryCrossEntropy(GradientBuilder &gb, Value logits, Value labels) {
  Type element = autodiff::typeOf(logits).getElementType();
  Value magnitude = gb.max(logits, gb.neg(logits));
  Value softplus = gb.builder.create<LogOp>(
      gb.loc(), gb.add(gb.scalar(1, element), gb.exp(gb.neg(magnitude))));
  Value perElement = gb.add(gb.sub(gb.max(logits, gb.scalar(0, element)),
                                   gb.mul(logits, labels)),
                            softplus);
  return meanOfAll(gb, perElement);
}

// logsumexp(z) - z[label] per row: softmax cross-entropy over the classes.
Value softmaxCrossEntropy(GradientBuilder &gb, Value logits, Value labels) {
  int64_t classes = shapeOf(logits)[1];
  Value rowMax = gb.builder.create<ReduceMaxOp>(
      gb.loc(), RankedTensorType::get({shapeOf(logits)[0], 1}, autodiff::typeOf(logits).getElementType()),
      logits, 1, /*keepDims=*/true);
  Value sumExp = gb.reduceSum(gb.exp(gb.sub(logits, rowMax)), 1, /*keepDims=*/true);
  Value logSumExp = gb.add(rowMax, gb.builder.create<LogOp>(gb.loc(), sumExp));
  Value oneHot = gb.builder.create<FcIndicatorOp>(gb.loc(), logits.getType(), labels,
                                                  /*weights=*/Value(), classes);
  Value picked = gb.reduceSum(gb.mul(logits, oneHot), 1, /*keepDims=*/true);
  return meanOfAll(gb, gb.sub(logSumExp, picked));
}

Value meanSquaredError(GradientBuilder &gb, Value predictions, Value targets) {
  Value error = gb.sub(predictions, targets);
  return meanOfAll(gb, gb.mul(error, error));
}

LogicalResult attachLoss(ModuleOp module, DictionaryAttr training) {
  auto lossName = training.getAs<StringAttr>("loss");
  auto labelKey = training.getAs<StringAttr>("label");
  auto outputName = training.getAs<StringAttr>("output");
  if (!lossName || !labelKey)
    return module.emitError("lmc.training needs string fields 'loss' and 'label'");
  StringRef loss = lossName.getValue();
  if (loss != "binary_cross_entropy" && loss != "softmax_cross_entropy" &&
      loss != "mean_squared_error")
    return module.emitError("lmc.training: unknown loss '")
           << loss << "' (binary_cross_entropy, softmax_cross_entropy, mean_squared_error)";

  // The model output the loss reads: the one named, or the only one.
  func::FuncOp function;
  std::optional<unsigned> index;
  for (auto candidate : module.getOps<func::FuncOp>())
    for (unsigned i = 0; i < candidate.getNumResults(); ++i) {
      auto name = candidate.getResultAttrOfType<StringAttr>(i, "lmc.output");
      bool named = outputName ? name && name == outputName : candidate.getNumResults() == 1;
      if (named && function)
        return module.emitError("lmc.training: more than one model output could be '")
               << (outputName ? outputName.getValue() : "the only output")
               << "'; name it with 'output'";
      if (named) {
        function = candidate;
        index = i;
      }
    }
  if (!function)
    return module.emitError("lmc.training: no model output ")
           << (outputName ? "named '" + outputName.getValue().str() + "'"
                          : std::string("to train (name one with 'output')"));

  Block &body = function.getBody().front();
  auto ret = llvm::cast<func::ReturnOp>(body.getTerminator());
  Value logits = ret.getOperand(*index);
  auto logitsType = autodiff::typeOf(logits);
  if (logitsType.getRank() != 2 || !logitsType.getElementType().isF32() ||
      ShapedType::isDynamic(logitsType.getDimSize(1)))
    return function.emitError("lmc.training: the loss reads a [batch, units] f32 output, got ")
           << logitsType;

  MLIRContext *context = module.getContext();
  bool classIds = loss == "softmax_cross_entropy";
  auto labelType = classIds ? RankedTensorType::get({logitsType.getDimSize(0), 1},
                                                    IntegerType::get(context, 64))
                            : logitsType;
  unsigned labelIndex = function.getNumArguments();
  NamedAttrList labelAttrs;
  labelAttrs.append("lmc.feature", labelKey);
  labelAttrs.append("lmc.ingest", StringAttr::get(context, "value"));
  function.insertArgument(labelIndex, labelType, labelAttrs.getDictionary(context),
                          function.getLoc());
  Value labels = function.getArgument(labelIndex);

  OpBuilder builder(ret);
  GradientBuilder gb(builder, /*active=*/{});
  gb.setLoc(ret.getLoc());
  Value value = loss == "binary_cross_entropy" ? binaryCrossEntropy(gb, logits, labels)
                : classIds                       ? softmaxCrossEntropy(gb, logits, labels)
                                                 : meanSquaredError(gb, logits, labels);
  builder.create<func::ReturnOp>(ret.getLoc(), value);
  ret.erase();
  function.setType(FunctionType::get(context, function.getArgumentTypes(), value.getType()));
  NamedAttrList resultAttrs;
  resultAttrs.append("lmc.loss", UnitAttr::get(context));
  resultAttrs.append("lmc.output", StringAttr::get(context, "loss"));
  function.setAllResultAttrs(ArrayRef<DictionaryAttr>{resultAttrs.getDictionary(context)});
  return success();
}

struct AttachLossPass : mlir::lmc::impl::AttachLossPassBase<AttachLossPass> {
  void runOnOperation() override {
    auto training = getOperation()->getAttrOfType<DictionaryAttr>("lmc.training");
    if (!training) {
      getOperation().emitError("lmc-attach-loss: the module has no lmc.training attribute "
                               "(a spec's training section declares one)");
      return signalPassFailure();
    }
    if (failed(attachLoss(getOperation(), training)))
      signalPassFailure();
  }
};

} // namespace
