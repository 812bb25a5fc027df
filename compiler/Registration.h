//===- Registration.h - dialects every lmc tool understands -----*- C++ -*-===//

#ifndef LMC_COMPILER_REGISTRATION_H
#define LMC_COMPILER_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::lmc {

/// Adds the dialects an lmc model is written in: lmc, and func for the
/// functions that hold the graph.
void registerLmcDialects(DialectRegistry &registry);

} // namespace mlir::lmc

#endif // LMC_COMPILER_REGISTRATION_H
