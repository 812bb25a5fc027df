//===- MixedPrecision.cpp - f16/bf16 storage, f32 where it matters --------===//
//
// f32 op => low-precision op, with casts at the boundaries of the f32 islands
//
// Ops are retyped in place, in block order: when an op is reached, its
// operands already carry their final types, so each op only asks for each
// float operand in the precision it computes in.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_MIXEDPRECISIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;

namespace {

/// Ops whose f32 values are stored in the low precision.
bool computesInLowPrecision(Operation *op) {
  if (auto reduce = dyn_cast<SegmentReduceOp>(op))
    return reduce.getReduction() == SegmentReduction::first ||
           reduce.getReduction() == SegmentReduction::max;
  return op->hasTrait<LmcTrait::LowPrecisionSafe>();
}

/// Results that stay f32 whatever their op computes in: attention's
/// log-sum-exp, which the backward pass exponentiates against f32 scores.
bool isStatistic(Value result) {
  auto attention = result.getDefiningOp<AttentionOp>();
  return attention && result == attention.getLse();
}

/// Operands a low-precision op still reads in f32: the backward's
/// log-sum-exp (FlashAttention-2 keeps it f32 with f16 Q, K, V).
bool readsStatistic(OpOperand &operand) {
  auto grad = dyn_cast<AttentionGradOp>(operand.getOwner());
  return grad && operand.get() == grad.getLse();
}

/// A training step (--lmc-autodiff's output, with its loss-scale argument):
/// its parameters are the f32 master weights the optimizer updates, so they
/// stay f32 and are cast to the low precision where they are read.
bool isTrainingStep(func::FuncOp function) {
  for (unsigned i = 0; i < function.getNumArguments(); ++i)
    if (function.getArgAttr(i, "lmc.loss_scale"))
      return true;
  return false;
}

RankedTensorType withElement(Type type, Type element) {
  return llvm::cast<RankedTensorType>(type).clone(element);
}

bool isF32Tensor(Type type) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isF32();
}

/// The output layer: the op producing a returned value and, when it adds a
/// bias to a matmul, that matmul and the parameters the two read. Like
/// Keras' mixed precision, which keeps the last layer in float32, these
/// stay f32: an output such as a single logit is a sum whose cancellation
/// a low-precision store would amplify.
SetVector<Operation *> outputLayer(func::FuncOp function) {
  SetVector<Operation *> layer;
  function.walk([&](func::ReturnOp ret) {
    for (Value value : ret.getOperands()) {
      Operation *op = value.getDefiningOp();
      if (!op || !isF32Tensor(value.getType()))
        continue;
      layer.insert(op);
      if (auto add = dyn_cast<AddOp>(op))
        for (Value operand : add.getOperands())
          if (auto matmul = operand.getDefiningOp<MatmulOp>())
            layer.insert(matmul);
    }
  });
  for (Operation *op : SmallVector<Operation *>(layer.begin(), layer.end()))
    for (Value operand : op->getOperands())
      if (auto load = operand.getDefiningOp<ParamLoadOp>())
        layer.insert(load);
  return layer;
}

class Retyper {
public:
  Retyper(OpBuilder &builder, FloatType low, SetVector<Operation *> keepF32)
      : builder(builder), low(low), keepF32(std::move(keepF32)) {}

  /// `value` with its float element type replaced by `element`: the value
  /// itself, a converted constant, or one cast per value and type.
  Value as(Value value, Type element, Operation *user);

  /// Retypes `op`'s f32 operands and results for its precision.
  void retype(Operation *op);

  FloatType lowType() const { return low; }

private:
  OpBuilder &builder;
  FloatType low;
  SetVector<Operation *> keepF32;
  DenseMap<std::pair<Value, Type>, Value> converted;
};

Value Retyper::as(Value value, Type element, Operation *user) {
  auto type = llvm::cast<RankedTensorType>(value.getType());
  if (type.getElementType() == element)
    return value;
  auto key = std::make_pair(value, element);
  if (Value known = converted.lookup(key))
    return known;
  OpBuilder::InsertionGuard guard(builder);
  Value result;
  if (auto constant = value.getDefiningOp<ConstantOp>()) {
    // Constants are converted, not cast.
    builder.setInsertionPointAfter(constant);
    auto attr = llvm::cast<DenseElementsAttr>(constant.getValue());
    const llvm::fltSemantics &semantics = llvm::cast<FloatType>(element).getFloatSemantics();
    auto values = llvm::to_vector(llvm::map_range(attr.getValues<APFloat>(), [&](APFloat v) {
      bool losesInfo;
      v.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
      return v;
    }));
    result = builder.create<ConstantOp>(
        constant.getLoc(), DenseElementsAttr::get(withElement(type, element), values));
  } else {
    if (Operation *def = value.getDefiningOp())
      builder.setInsertionPointAfter(def);
    else
      builder.setInsertionPointToStart(value.getParentBlock());
    result = builder.create<CastOp>(user->getLoc(), withElement(type, element), value);
  }
  converted[key] = result;
  return result;
}

void Retyper::retype(Operation *op) {
  bool lowOp = computesInLowPrecision(op) && !keepF32.contains(op);
  Type f32 = builder.getF32Type();
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = llvm::dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || !llvm::isa<FloatType>(type.getElementType()))
      continue;
    Type element = type.getElementType();
    // A low op takes its f32 operands low; an f32 op takes low ones back up.
    if (lowOp && element.isF32() && !readsStatistic(operand))
      operand.set(as(operand.get(), low, op));
    else if (!lowOp && element == low && !isa<CastOp>(op))
      operand.set(as(operand.get(), f32, op));
  }
  if (lowOp)
    for (Value result : op->getResults())
      if (isF32Tensor(result.getType()) && !isStatistic(result))
        result.setType(withElement(result.getType(), low));
}

struct MixedPrecisionPass
    : mlir::lmc::impl::MixedPrecisionPassBase<MixedPrecisionPass> {
  using MixedPrecisionPassBase::MixedPrecisionPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    FloatType low;
    if (precision == "f16")
      low = builder.getF16Type();
    else if (precision == "bf16")
      low = builder.getBF16Type();
    else {
      module.emitError("--lmc-mixed-precision: precision must be f16 or bf16, got '")
          << precision << "'";
      return signalPassFailure();
    }
    // Parameters read by an output layer, and every parameter of a
    // training step (its master weights), stay f32.
    llvm::StringSet<> keptParameters;
    DenseMap<Operation *, SetVector<Operation *>> outputLayers;
    for (auto function : module.getOps<func::FuncOp>()) {
      outputLayers[function] = outputLayer(function);
      bool training = isTrainingStep(function);
      for (Operation *op : outputLayers[function])
        if (auto load = dyn_cast<ParamLoadOp>(op))
          keptParameters.insert(load.getName());
      if (training) {
        function.walk([&](ParamLoadOp load) {
          keptParameters.insert(load.getName());
          outputLayers[function].insert(load);
        });
        // Gathers read the f32 master table itself; only the rows they
        // return are cast, not the whole table every step.
        function.walk([&](Operation *op) {
          if (isa<EmbeddingOp, FcEmbeddingBagOp>(op) &&
              op->getOperand(0).getDefiningOp<ParamLoadOp>())
            outputLayers[function].insert(op);
        });
      }
    }
    for (auto parameter : module.getOps<ParameterOp>())
      if (isF32Tensor(parameter.getType()) &&
          !keptParameters.contains(parameter.getSymName()))
        parameter.setType(withElement(parameter.getType(), low));

    for (auto function : module.getOps<func::FuncOp>()) {
      Retyper retyper(builder, low, outputLayers[function]);
      // Snapshot the ops first: retyping inserts casts and constants.
      SmallVector<Operation *> ops;
      for (Operation &op : function.getBody().front())
        ops.push_back(&op);
      for (Operation *op : ops) {
        if (auto ret = dyn_cast<func::ReturnOp>(op)) {
          // Outputs keep the signature's types.
          for (auto [operand, type] :
               llvm::zip(ret->getOpOperands(), function.getResultTypes()))
            operand.set(retyper.as(operand.get(),
                                   llvm::cast<ShapedType>(type).getElementType(), op));
          continue;
        }
        retyper.retype(op);
      }
      // f32 constants replaced by converted copies are left unused.
      for (auto constant : llvm::make_early_inc_range(function.getOps<ConstantOp>()))
        if (constant->use_empty())
          constant.erase();
    }
  }
};

} // namespace
