//===- Pipeline.cpp - the pass pipeline of `lmc compile` ------------------===//

#include "compiler/Pipeline.h"

#include "mlir/Transforms/Passes.h"

void mlir::lmc::buildCompilePipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

mlir::LogicalResult mlir::lmc::runCompilePipeline(ModuleOp module) {
  PassManager pm(module->getName());
  buildCompilePipeline(pm);
  return pm.run(module);
}
