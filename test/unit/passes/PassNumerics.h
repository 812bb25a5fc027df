// PassNumerics.h - what the pass numerics tests share: the example models,
// random inputs for them, and the error measure.

#ifndef LMC_TEST_UNIT_PASSES_PASSNUMERICS_H
#define LMC_TEST_UNIT_PASSES_PASSNUMERICS_H

#include "compiler/eval/Evaluator.h"

#include "mlir/IR/BuiltinOps.h"

namespace mlir::lmc::testing {

/// Dynamic batch and sequence sizes of the random inputs.
constexpr int64_t kBatch = 3, kSequence = 5;

/// examples/<name> as a module: a YAML spec, or lmc IR when it ends in .mlir.
OwningOpRef<ModuleOp> loadExample(llvm::StringRef name, MLIRContext &context);

/// Random inputs for `function`: dynamic sizes become kBatch and kSequence;
/// arguments tagged lmc.ingest = "lengths" take `lengths`; other integers
/// are ids or fingerprints in [0, 1000) (or [1, 4] for untagged 1-D
/// integers, the lengths of hand-written tests); floats lie in [-1, 1]
/// away from zero.
SmallVector<eval::EvalTensor> randomInputs(func::FuncOp function, uint64_t seed,
                                           ArrayRef<int64_t> lengths = {},
                                           int64_t batch = kBatch,
                                           int64_t sequence = kSequence);

/// ||actual - expected|| / ||expected|| over the floats.
double relativeL2(const eval::EvalTensor &actual, const eval::EvalTensor &expected);

/// The largest relative L2 error over the outputs of `actual` against
/// `expected`, both run on the same inputs and parameters; -1 when either
/// fails to evaluate.
double worstOutputError(func::FuncOp expected, func::FuncOp actual,
                        ArrayRef<eval::EvalTensor> inputs, uint64_t seed);

} // namespace mlir::lmc::testing

#endif // LMC_TEST_UNIT_PASSES_PASSNUMERICS_H
