//===- CompileOptions.h - what `lmc compile` is asked for -------*- C++ -*-===//
//
// The options of a compile, apart from the pipeline that applies them
// (Pipeline.h), so code that only sets them (the tests' package helpers)
// compiles without MLIR's headers.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_COMPILEOPTIONS_H
#define LMC_COMPILER_COMPILEOPTIONS_H

#include "passes/PlanBudget.h"

#include <cstdint>

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
  int64_t maxBatch = kDefaultMaxBatch, maxSequence = kDefaultMaxSequence,
          maxTokens = kDefaultMaxTokens;
};

} // namespace mlir::lmc

#endif // LMC_COMPILER_COMPILEOPTIONS_H
