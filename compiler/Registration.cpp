//===- Registration.cpp - dialects every lmc tool understands -------------===//

#include "compiler/Registration.h"

#include "dialects/lmc/IR/LmcDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

void mlir::lmc::registerLmcDialects(DialectRegistry &registry) {
  registry.insert<LmcDialect, func::FuncDialect>();
}
