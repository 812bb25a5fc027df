//===- LmcOps.td - every op of the lmc dialect -----------------------------===//
//
// One tablegen unit for the dialect's ops, split into files by op family.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_OPS_TD
#define LMC_OPS_TD

include "dialects/lmc/IR/LmcPrimitiveOps.td"
include "dialects/lmc/IR/LmcCompositeOps.td"
include "dialects/lmc/IR/LmcSequenceOps.td"
include "dialects/lmc/IR/LmcFeatureColumnOps.td"
include "dialects/lmc/IR/LmcTrainingOps.td"
include "dialects/lmc/IR/LmcKernelOps.td"

#endif // LMC_OPS_TD
