//===- LmcOps.cpp - generated op definitions of the lmc dialect -----------===//
//
// The hand-written verifiers and folders live in one file per op family:
// LmcPrimitiveOps.cpp, LmcCompositeOps.cpp, LmcSequenceOps.cpp and
// LmcFeatureColumnOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#define GET_OP_CLASSES
#include "dialects/lmc/IR/LmcOps.cpp.inc"
