//===- Passes.h - every lmc pass ----------------------------------*- C++ -*-===//

#ifndef LMC_PASSES_PASSES_H
#define LMC_PASSES_PASSES_H

#include "dialects/lmc/IR/LmcDialect.h"
#include "passes/PlanBudget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lmc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The rewrite of --lmc-fuse-attention, for pipelines of patterns.
void populateFuseAttentionPatterns(RewritePatternSet &patterns);

} // namespace mlir::lmc

#endif // LMC_PASSES_PASSES_H
