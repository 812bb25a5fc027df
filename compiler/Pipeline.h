//===- Pipeline.h - the pass pipeline of `lmc compile` ----------*- C++ -*-===//

#ifndef LMC_COMPILER_PIPELINE_H
#define LMC_COMPILER_PIPELINE_H

#include "artifact/Plan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace mlir::lmc {

/// The storage precision of a compiled model (`lmc compile --precision`).
enum class Precision { FP32, FP16, BF16 };

struct CompileOptions {
  Precision precision = Precision::FP32;
  /// Run --lmc-remove-padding (`lmc compile --packing=off` skips it).
  bool packing = true;
  /// Also group ops into kernels and plan their memory (--emit=kernels).
  bool formKernels = false;
  /// Compile the training step instead of the model (`lmc compile
  /// --train`): the module's lmc.training names the loss and the optimizer.
  bool train = false;
  /// With `train`: add the optimizer update and ZeRO's collectives
  /// (lmc-shard-state). Off, the step returns the loss and the gradients
  /// (tests compare those with the evaluator).
  bool optimizer = true;
  /// The batch sizes the memory plan is made for (lmc-plan-memory's
  /// options); the runtime packs batches within them.
  int64_t maxBatch = 64, maxSequence = 512, maxTokens = 32768;
};

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
