//===- PlanBudget.h - the batch a memory plan is made for by default -*- C++ -*-===//
//
// One definition of the defaults `lmc compile --max-batch/--max-sequence/
// --max-tokens`, CompileOptions and --lmc-plan-memory's options share.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_PASSES_PLANBUDGET_H
#define LMC_PASSES_PLANBUDGET_H

#include <cstdint>

namespace mlir::lmc {

/// Examples per batch, tokens per padded sequence (also the runtime's
/// default packing length), packed tokens per batch.
inline constexpr int64_t kDefaultMaxBatch = 64, kDefaultMaxSequence = 512,
                         kDefaultMaxTokens = 32768;

} // namespace mlir::lmc

#endif // LMC_PASSES_PLANBUDGET_H
