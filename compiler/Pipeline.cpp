//===- Pipeline.cpp - the pass pipeline of `lmc compile` ------------------===//

#include "compiler/Pipeline.h"

#include "compiler/artifact/TrainingSettings.h"
#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

void mlir::lmc::buildCompilePipeline(OpPassManager &pm, const CompileOptions &options,
                                     const ::lmc::rt::Training *training) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createFuseAttentionPass());
  if (options.packing)
    pm.addNestedPass<func::FuncOp>(createRemovePaddingPass());
  if (options.train) {
    // On packed tokens, so the backward pass skips padding too.
    pm.addPass(createAttachLossPass());
    pm.addPass(createAutodiffPass());
  }
  if (options.precision != Precision::FP32) {
    MixedPrecisionPassOptions mixed;
    mixed.precision = options.precision == Precision::FP16 ? "f16" : "bf16";
    pm.addPass(createMixedPrecisionPass(mixed));
  }
  // Fusion leaves transpose pairs to cancel; packing leaves duplicates.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // After CSE: collectives must not be merged, and the update's constants
  // are its own.
  if (options.train && options.optimizer && training) {
    ShardStatePassOptions sharding;
    sharding.stage = training->zeroStage;
    sharding.ranks = training->ranks;
    sharding.beta1 = training->beta1;
    sharding.beta2 = training->beta2;
    sharding.epsilon = training->epsilon;
    sharding.weightDecay = training->weightDecay;
    pm.addPass(createShardStatePass(sharding));
  }
  if (options.formKernels) {
    pm.addNestedPass<func::FuncOp>(createFormKernelsPass());
    PlanMemoryPassOptions budget;
    budget.batch = options.maxBatch;
    budget.sequence = options.maxSequence;
    budget.tokens = options.maxTokens;
    pm.addNestedPass<func::FuncOp>(createPlanMemoryPass(budget));
  }
}

mlir::LogicalResult mlir::lmc::runCompilePipeline(
    ModuleOp module, const CompileOptions &options,
    llvm::function_ref<void(PassManager &)> configure) {
  PassManager pm(module->getName());
  if (configure)
    configure(pm);
  // Without the settings lmc-attach-loss reports the missing section.
  std::optional<::lmc::rt::Training> training;
  if (options.train && options.optimizer && module->hasAttr("lmc.training")) {
    FailureOr<::lmc::rt::Training> settings = readTrainingSettings(module);
    if (failed(settings))
      return failure();
    training = *settings;
  }
  buildCompilePipeline(pm, options, training ? &*training : nullptr);
  return pm.run(module);
}
