//===- LmcDialect.h - the lmc dialect, its enums and attributes -*- C++ -*-===//

#ifndef LMC_DIALECTS_LMC_IR_LMCDIALECT_H
#define LMC_DIALECTS_LMC_IR_LMCDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dialects/lmc/IR/LmcDialect.h.inc"
#include "dialects/lmc/IR/LmcEnums.h.inc"

#endif // LMC_DIALECTS_LMC_IR_LMCDIALECT_H
