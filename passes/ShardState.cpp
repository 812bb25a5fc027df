//===- ShardState.cpp - the optimizer update and ZeRO's collectives -------===//
//
// Turns a training step's gradient results into AdamW updates computed in
// the step, sharded over ranks as ZeRO does (see Passes.td). The dense
// update is built from primitive ops, so it fuses into the step's kernels
// like any other elementwise chain; an embedding table's row-sparse update
// is one lmc.adamw_rows.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/autodiff/GradientBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::lmc {
#define GEN_PASS_DEF_SHARDSTATEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::lmc

using namespace mlir;
using namespace mlir::lmc;
using autodiff::GradientBuilder;
using autodiff::typeOf;

namespace {

int64_t shardSize(int64_t elements, int64_t ranks) { return (elements + ranks - 1) / ranks; }

RankedTensorType flatF32(MLIRContext *context, int64_t elements) {
  return RankedTensorType::get({elements}, Float32Type::get(context));
}

/// A parameter's gradient as --lmc-autodiff returned it: dense, or the
/// (indices, rows) pairs of a row-sparse one.
struct ParameterGradient {
  ParameterOp parameter;
  Value dense;
  SmallVector<std::pair<Value, Value>> rows;
};

/// The trainer's per-step scalars (see Passes.td) and the step's verdict.
struct StepScalars {
  Value step, learningRate, stepSize, decay, rootCorrection2, unscale, apply;
};

class StepRewriter {
public:
  StepRewriter(func::FuncOp function, GradientBuilder &gb, int64_t stage, int64_t ranks,
               double beta1, double beta2, double epsilon, double weightDecay)
      : function(function), module(function->getParentOfType<ModuleOp>()), gb(gb),
        stage(ranks > 1 ? stage : 0), ranks(ranks), beta1(beta1), beta2(beta2),
        epsilon(epsilon), weightDecay(weightDecay) {}

  LogicalResult run();

private:
  FailureOr<SmallVector<ParameterGradient>> collectGradients(SmallVector<Value> &kept,
                                                             SmallVector<DictionaryAttr> &keptAttrs);
  Value finiteCheck(ArrayRef<ParameterGradient> gradients);
  StepScalars stepScalars(Value step, Value apply);
  /// The moment `<name>.<suffix>` of `parameter`'s shard, declared zeros.
  Value loadMoment(ParameterOp parameter, StringRef suffix, int64_t elements);
  /// This rank's shard of `parameter`'s master weights, flattened.
  Value ownedWeights(ParameterOp parameter, int64_t elements);
  /// This rank's part of a dense gradient, summed over the ranks, flattened.
  Value ownedGradient(Value gradient);
  /// The parameter's new stored value from its updated shard.
  Value storedValue(ParameterOp parameter, Value shard);
  void updateDense(const ParameterGradient &gradient, const StepScalars &scalars);
  LogicalResult updateRows(const ParameterGradient &gradient, const StepScalars &scalars);
  /// Stage 3: parameters stored as shards, gathered before each use.
  void shardParameterStorage(ArrayRef<ParameterGradient> gradients);
  void addUpdate(Value value, StringRef name);

  func::FuncOp function;
  ModuleOp module;
  GradientBuilder &gb;
  int64_t stage, ranks;
  double beta1, beta2, epsilon, weightDecay;
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  /// Stage 3: the optimizer's reads of the shards it updates.
  llvm::SmallPtrSet<Operation *, 16> ownShardLoads;
};

FailureOr<SmallVector<ParameterGradient>>
StepRewriter::collectGradients(SmallVector<Value> &kept, SmallVector<DictionaryAttr> &keptAttrs) {
  auto ret = llvm::cast<func::ReturnOp>(function.getBody().front().getTerminator());
  SymbolTable symbols(module);
  SmallVector<ParameterGradient> gradients;
  for (unsigned i = 0; i < function.getNumResults(); ++i) {
    Value value = ret.getOperand(i);
    auto name = function.getResultAttrOfType<StringAttr>(i, "lmc.gradient");
    if (!name) {
      kept.push_back(value);
      keptAttrs.push_back(function.getResultAttrDict(i) ? function.getResultAttrDict(i)
                                                        : DictionaryAttr::get(module.getContext()));
      continue;
    }
    auto parameter = symbols.lookup<ParameterOp>(name);
    if (!parameter)
      return function.emitError("lmc-shard-state: gradient of unknown parameter '") << name << "'";
    if (gradients.empty() || gradients.back().parameter != parameter)
      gradients.push_back({parameter, {}, {}});
    auto part = function.getResultAttrOfType<StringAttr>(i, "lmc.sparse");
    if (!part) {
      gradients.back().dense = value;
    } else if (part.getValue() == "indices") {
      if (i + 1 >= function.getNumResults())
        return function.emitError("lmc-shard-state: sparse indices of '")
               << name << "' without their rows";
      gradients.back().rows.push_back({value, ret.getOperand(i + 1)});
      ++i;
    }
  }
  return gradients;
}

// 0 when every gradient element on every rank is finite, NaN otherwise:
// x * 0 is 0 for a finite x and NaN for an infinite or NaN one.
Value StepRewriter::finiteCheck(ArrayRef<ParameterGradient> gradients) {
  MLIRContext *context = module.getContext();
  Type f32 = Float32Type::get(context);
  Value total = gb.scalar(0.0, f32);
  auto addCheck = [&](Value gradient) {
    Value zeros = gb.mul(gb.cast(gradient, f32), gb.scalar(0.0, f32));
    while (typeOf(zeros).getRank() > 0)
      zeros = gb.reduceSum(zeros, typeOf(zeros).getRank() - 1, false);
    total = gb.add(total, zeros);
  };
  for (const ParameterGradient &gradient : gradients) {
    if (gradient.dense)
      addCheck(gradient.dense);
    for (auto [indices, rows] : gradient.rows)
      addCheck(rows);
  }
  if (ranks > 1)
    total = gb.builder.create<AllReduceOp>(gb.loc(), total.getType(), total, ranks);
  return gb.compare(ComparePredicate::eq, total, gb.scalar(0.0, f32));
}

StepScalars StepRewriter::stepScalars(Value step, Value apply) {
  auto element = [&](int64_t index) {
    return gb.builder.create<SliceOp>(gb.loc(), flatF32(module.getContext(), 1), step, 0, index,
                                      index + 1);
  };
  StepScalars scalars;
  scalars.step = step;
  scalars.apply = apply;
  scalars.learningRate = element(0);
  scalars.stepSize = gb.mul(scalars.learningRate, element(1));
  scalars.rootCorrection2 = element(2);
  scalars.unscale = element(3);
  Type f32 = Float32Type::get(module.getContext());
  scalars.decay =
      gb.sub(gb.scalar(1.0, f32), gb.mul(scalars.learningRate, gb.scalar(weightDecay, f32)));
  return scalars;
}

Value StepRewriter::loadMoment(ParameterOp parameter, StringRef suffix, int64_t elements) {
  MLIRContext *context = module.getContext();
  OpBuilder declare(context);
  // After the parameter and the moments declared for it before.
  Operation *last = parameter;
  while (last->getNextNode() && last->getNextNode()->hasAttr("lmc.optimizer_state"))
    last = last->getNextNode();
  declare.setInsertionPointAfter(last);
  std::string name = (parameter.getSymName() + "." + suffix).str();
  auto type = flatF32(context, elements);
  auto zeros = DictionaryAttr::get(
      context, {NamedAttribute(StringAttr::get(context, "kind"), StringAttr::get(context, "zeros"))});
  auto moment = declare.create<ParameterOp>(parameter.getLoc(), name, type, zeros);
  moment->setAttr("lmc.optimizer_state", UnitAttr::get(context));
  return gb.builder.create<ParamLoadOp>(gb.loc(), type, moment.getSymName());
}

Value StepRewriter::ownedWeights(ParameterOp parameter, int64_t elements) {
  MLIRContext *context = module.getContext();
  int64_t shard = shardSize(elements, ranks);
  if (stage == 3) {
    auto load = gb.builder.create<ParamLoadOp>(gb.loc(), flatF32(context, shard),
                                               parameter.getSymName());
    ownShardLoads.insert(load);
    return load;
  }
  Value whole = gb.builder.create<ParamLoadOp>(gb.loc(), parameter.getType(), parameter.getSymName());
  if (stage == 0)
    return gb.reshape(whole, flatF32(context, elements));
  return gb.builder.create<ShardSliceOp>(gb.loc(), flatF32(context, shard), whole, ranks);
}

Value StepRewriter::ownedGradient(Value gradient) {
  MLIRContext *context = module.getContext();
  gradient = gb.cast(gradient, Float32Type::get(context));
  int64_t elements = typeOf(gradient).getNumElements();
  OpBuilder::InsertionGuard guard(gb.builder);
  // Sent as soon as the backward has it.
  if (Operation *producer = gradient.getDefiningOp())
    gb.builder.setInsertionPointAfter(producer);
  if (stage == 0) {
    if (ranks > 1)
      gradient = gb.builder.create<AllReduceOp>(gb.loc(), gradient.getType(), gradient, ranks);
    return gb.reshape(gradient, flatF32(context, elements));
  }
  auto shard = flatF32(context, shardSize(elements, ranks));
  if (stage == 1) {
    Value summed = gb.builder.create<AllReduceOp>(gb.loc(), gradient.getType(), gradient, ranks);
    return gb.builder.create<ShardSliceOp>(gb.loc(), shard, summed, ranks);
  }
  return gb.builder.create<ReduceScatterOp>(gb.loc(), shard, gradient, ranks);
}

Value StepRewriter::storedValue(ParameterOp parameter, Value shard) {
  if (stage == 3)
    return shard;
  if (stage == 0)
    return gb.reshape(shard, llvm::cast<RankedTensorType>(parameter.getType()));
  return gb.builder.create<AllGatherOp>(gb.loc(), parameter.getType(), shard, ranks);
}

void StepRewriter::addUpdate(Value value, StringRef name) {
  MLIRContext *context = module.getContext();
  results.push_back(value);
  resultAttrs.push_back(DictionaryAttr::get(
      context, {NamedAttribute(StringAttr::get(context, "lmc.update"), StringAttr::get(context, name))}));
}

// PyTorch's AdamW, in f32, on this rank's shard; `apply` false keeps all.
void StepRewriter::updateDense(const ParameterGradient &gradient, const StepScalars &scalars) {
  ParameterOp parameter = gradient.parameter;
  int64_t elements = llvm::cast<RankedTensorType>(parameter.getType()).getNumElements();
  int64_t shard = stage == 0 ? elements : shardSize(elements, ranks);
  Value g = gb.mul(ownedGradient(gradient.dense), scalars.unscale);
  Value weights = ownedWeights(parameter, elements);
  Value m = loadMoment(parameter, "adam_m", shard), v = loadMoment(parameter, "adam_v", shard);
  Type f32 = Float32Type::get(module.getContext());
  Value newM = gb.add(gb.mul(m, gb.scalar(beta1, f32)), gb.mul(g, gb.scalar(1 - beta1, f32)));
  Value newV =
      gb.add(gb.mul(v, gb.scalar(beta2, f32)), gb.mul(gb.mul(g, g), gb.scalar(1 - beta2, f32)));
  Value denominator =
      gb.add(gb.mul(gb.sqrt(newV), scalars.rootCorrection2), gb.scalar(epsilon, f32));
  Value newWeights = gb.sub(gb.mul(weights, scalars.decay),
                            gb.div(gb.mul(newM, scalars.stepSize), denominator));
  addUpdate(storedValue(parameter, gb.select(scalars.apply, newWeights, weights)),
            parameter.getSymName());
  addUpdate(gb.select(scalars.apply, newM, m), (parameter.getSymName() + ".adam_m").str());
  addUpdate(gb.select(scalars.apply, newV, v), (parameter.getSymName() + ".adam_v").str());
}

LogicalResult StepRewriter::updateRows(const ParameterGradient &gradient,
                                       const StepScalars &scalars) {
  ParameterOp parameter = gradient.parameter;
  for (auto [indices, rows] : gradient.rows)
    if (ranks > 1 && llvm::any_of(typeOf(indices).getShape().drop_front(), ShapedType::isDynamic))
      return parameter.emitError("lmc-shard-state: the rows of '")
             << parameter.getSymName() << "' read by ids of shape "
             << typeOf(indices) << " cannot be gathered over ranks (only dimension 0 may be "
             << "dynamic; pack the sequence)";
  auto tableType = llvm::cast<RankedTensorType>(parameter.getType());
  int64_t elements = tableType.getNumElements();
  // Stage 0 replicates the table: every rank applies every rank's rows.
  int64_t shardRanks = stage == 0 ? 1 : ranks;
  int64_t shard = shardSize(elements, shardRanks);
  // A table every rank keeps whole is updated as stored (which the runtime
  // does in place); otherwise this rank's flattened shard.
  Value table = shardRanks == 1 ? gb.builder.create<ParamLoadOp>(gb.loc(), parameter.getType(),
                                                                 parameter.getSymName())
                                : ownedWeights(parameter, elements);
  Value m = loadMoment(parameter, "adam_m", shard), v = loadMoment(parameter, "adam_v", shard);
  Value rank;
  if (shardRanks > 1)
    rank = gb.builder.create<RankOp>(gb.loc(),
                                     RankedTensorType::get({}, gb.builder.getI64Type()), ranks);
  for (auto [indices, rows] : gradient.rows) {
    rows = gb.cast(rows, Float32Type::get(module.getContext()));
    if (ranks > 1) {
      indices = gb.builder.create<AllGatherRowsOp>(gb.loc(), indices.getType(), indices, ranks);
      rows = gb.builder.create<AllGatherRowsOp>(gb.loc(), rows.getType(), rows, ranks);
    }
    auto update = gb.builder.create<AdamwRowsOp>(
        gb.loc(), TypeRange{table.getType(), m.getType(), v.getType()}, table, m, v, indices,
        rows, scalars.step, scalars.apply, rank, gb.builder.getI64IntegerAttr(shardRanks),
        gb.builder.getI64IntegerAttr(tableType.getDimSize(0)), gb.builder.getF64FloatAttr(beta1),
        gb.builder.getF64FloatAttr(beta2), gb.builder.getF64FloatAttr(epsilon),
        gb.builder.getF64FloatAttr(weightDecay));
    table = update.getNewTable();
    m = update.getNewM();
    v = update.getNewV();
  }
  addUpdate(shardRanks == 1 ? table : storedValue(parameter, table), parameter.getSymName());
  addUpdate(m, (parameter.getSymName() + ".adam_m").str());
  addUpdate(v, (parameter.getSymName() + ".adam_v").str());
  return success();
}

// Every read of a parameter becomes a read of this rank's shard and an
// all-gather just before each op that uses it.
void StepRewriter::shardParameterStorage(ArrayRef<ParameterGradient> gradients) {
  MLIRContext *context = module.getContext();
  for (const ParameterGradient &gradient : gradients) {
    ParameterOp parameter = gradient.parameter;
    auto whole = llvm::cast<RankedTensorType>(parameter.getType());
    auto shard = flatF32(context, shardSize(whole.getNumElements(), ranks));
    parameter->setAttr("lmc.shards", IntegerAttr::get(IntegerType::get(context, 64), ranks));
    SmallVector<ParamLoadOp> loads;
    function.walk([&](ParamLoadOp load) {
      if (load.getName() == parameter.getSymName() && !ownShardLoads.contains(load))
        loads.push_back(load);
    });
    for (ParamLoadOp load : loads) {
      OpBuilder builder(load);
      Value stored = builder.create<ParamLoadOp>(load.getLoc(), shard, load.getName());
      for (OpOperand &use : llvm::make_early_inc_range(load->getUses())) {
        builder.setInsertionPoint(use.getOwner());
        use.set(builder.create<AllGatherOp>(load.getLoc(), whole, stored, ranks));
      }
      load.erase();
    }
  }
}

LogicalResult StepRewriter::run() {
  MLIRContext *context = module.getContext();
  if (!function.getOps<KernelOp>().empty())
    return function.emitError("lmc-shard-state runs before --lmc-form-kernels");
  SmallVector<Value> kept;
  SmallVector<DictionaryAttr> keptAttrs;
  FailureOr<SmallVector<ParameterGradient>> gradients = collectGradients(kept, keptAttrs);
  if (failed(gradients))
    return failure();
  for (ParameterGradient gradient : *gradients)
    if (!llvm::cast<RankedTensorType>(gradient.parameter.getType()).getElementType().isF32())
      return gradient.parameter.emitError("lmc-shard-state: the master weights of '")
             << gradient.parameter.getSymName() << "' must be f32";
  results = kept;
  resultAttrs = keptAttrs;

  auto ret = llvm::cast<func::ReturnOp>(function.getBody().front().getTerminator());
  gb.builder.setInsertionPoint(ret);
  gb.setLoc(function.getLoc());
  Value step = function.getBody().front().addArgument(
      RankedTensorType::get({4}, Float32Type::get(context)), function.getLoc());
  Value apply = finiteCheck(*gradients);
  StepScalars scalars = stepScalars(step, apply);
  results.push_back(gb.cast(apply, Float32Type::get(context)));
  resultAttrs.push_back(DictionaryAttr::get(
      context, {NamedAttribute(StringAttr::get(context, "lmc.output"),
                               StringAttr::get(context, "finite"))}));
  for (const ParameterGradient &gradient : *gradients) {
    if (gradient.dense)
      updateDense(gradient, scalars);
    else if (failed(updateRows(gradient, scalars)))
      return failure();
  }
  if (stage == 3)
    shardParameterStorage(*gradients);

  gb.builder.create<func::ReturnOp>(ret.getLoc(), results);
  ret.erase();
  SmallVector<DictionaryAttr> argAttrs;
  function.getAllArgAttrs(argAttrs);
  argAttrs.push_back(DictionaryAttr::get(
      context, {NamedAttribute(StringAttr::get(context, "lmc.optimizer_step"), UnitAttr::get(context))}));
  function.setType(FunctionType::get(context, function.getBody().front().getArgumentTypes(),
                                     ValueRange(results).getTypes()));
  function.setAllArgAttrs(argAttrs);
  function.setAllResultAttrs(resultAttrs);
  return success();
}

struct ShardStatePass : mlir::lmc::impl::ShardStatePassBase<ShardStatePass> {
  using ShardStatePassBase::ShardStatePassBase;

  void runOnOperation() override {
    if (stage < 0 || stage > 3 || ranks < 1) {
      getOperation().emitError("lmc-shard-state: stage must be 0 to 3 and ranks at least 1");
      return signalPassFailure();
    }
    for (auto function : llvm::to_vector(getOperation().getOps<func::FuncOp>())) {
      bool isStep = false;
      for (unsigned i = 0; i < function.getNumResults(); ++i)
        isStep |= bool(function.getResultAttr(i, "lmc.loss"));
      if (!isStep)
        continue;
      OpBuilder builder(function.getContext());
      GradientBuilder gb(builder, {});
      StepRewriter rewriter(function, gb, stage, ranks, beta1, beta2, epsilon, weightDecay);
      if (failed(rewriter.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
