//===- Pipeline.h - the pass pipeline of `lmc compile` ----------*- C++ -*-===//

#ifndef LMC_COMPILER_PIPELINE_H
#define LMC_COMPILER_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::lmc {

/// Appends the passes `lmc compile` runs on a verified model, in order.
/// Today: canonicalize, cse, lmc-fuse-attention, lmc-remove-padding,
/// canonicalize, cse.
void buildCompilePipeline(OpPassManager &pm);

/// Runs the compile pipeline on `module`. Failures are reported through the
/// context's diagnostic handler.
LogicalResult runCompilePipeline(ModuleOp module);

} // namespace mlir::lmc

#endif // LMC_COMPILER_PIPELINE_H
