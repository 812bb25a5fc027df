//===- Pipeline.h - the pass pipeline of `lmc compile` ----------*- C++ -*-===//

#ifndef LMC_COMPILER_PIPELINE_H
#define LMC_COMPILER_PIPELINE_H

#include "compiler/CompileOptions.h"

#include "artifact/Plan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::lmc {

/// Appends the passes `lmc compile` runs on a verified model, in order:
/// canonicalize, cse, lmc-fuse-attention, lmc-remove-padding (unless
/// packing is off), for training lmc-attach-loss and lmc-autodiff, then
/// lmc-mixed-precision unless the precision is fp32, canonicalize, cse, for
/// training lmc-shard-state with `training`'s optimizer and sharding, and
/// for kernel IR lmc-form-kernels and lmc-plan-memory.
void buildCompilePipeline(OpPassManager &pm, const CompileOptions &options = {},
                          const ::lmc::rt::Training *training = nullptr);

/// Runs the compile pipeline on `module`. Failures are reported through the
/// context's diagnostic handler. `configure`, when given, sets up the pass
/// manager first (IR printing, timing).
LogicalResult runCompilePipeline(
    ModuleOp module, const CompileOptions &options = {},
    llvm::function_ref<void(PassManager &)> configure = nullptr);

} // namespace mlir::lmc

#endif // LMC_COMPILER_PIPELINE_H
