//===- LmcOps.h - the ops of the lmc dialect --------------------*- C++ -*-===//

#ifndef LMC_DIALECTS_LMC_IR_LMCOPS_H
#define LMC_DIALECTS_LMC_IR_LMCOPS_H

#include "dialects/lmc/IR/LmcDialect.h"
#include "dialects/lmc/IR/LmcTraits.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/lmc/IR/LmcOps.h.inc"

#endif // LMC_DIALECTS_LMC_IR_LMCOPS_H
