//===- LoadModel.h - read a model for any lmc subcommand --------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_LOADMODEL_H
#define LMC_TOOLS_LMC_LOADMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace lmc::tools {

/// Reads `path` (lmc IR, or a YAML spec declared through the frontend) into
/// `context`, whose diagnostics must already print through `sourceMgr`.
/// Returns null after reporting why; `command` prefixes I/O errors.
mlir::OwningOpRef<mlir::ModuleOp> loadModel(llvm::StringRef path,
                                            llvm::StringRef command,
                                            llvm::SourceMgr &sourceMgr,
                                            mlir::MLIRContext &context);

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_LOADMODEL_H
