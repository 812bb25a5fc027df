//===- LoadModel.h - read a model for any lmc subcommand --------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_LOADMODEL_H
#define LMC_TOOLS_LMC_LOADMODEL_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace lmc::tools {

/// What every subcommand starts from: a context with lmc's dialects whose
/// diagnostics print with file:line:col, and the model read from `path`
/// (lmc IR, or a YAML spec declared through the frontend). `module` is null
/// after the reason was reported; `command` prefixes I/O errors.
class ModelSession {
public:
  ModelSession(llvm::StringRef path, llvm::StringRef command);

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;

private:
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics;
};

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_LOADMODEL_H
