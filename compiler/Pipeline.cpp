//===- Pipeline.cpp - the pass pipeline of `lmc compile` ------------------===//

#include "compiler/Pipeline.h"

#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

void mlir::lmc::buildCompilePipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createFuseAttentionPass());
  pm.addNestedPass<func::FuncOp>(createRemovePaddingPass());
  // Fusion leaves transpose pairs to cancel; packing leaves duplicates.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

mlir::LogicalResult mlir::lmc::runCompilePipeline(ModuleOp module) {
  PassManager pm(module->getName());
  buildCompilePipeline(pm);
  return pm.run(module);
}
