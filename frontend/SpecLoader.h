//===- SpecLoader.h - declare a model from a YAML spec file -----*- C++ -*-===//
//
// The declarative twin of ModelBuilder: a YAML file lists columns and layers
// with the builder's vocabulary (docs/spec.md), and loading it makes the same
// builder calls, so a spec and the equivalent C++ program produce the same
// module. Every error names the column or layer and the field, at the spec
// file's line:col.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FRONTEND_SPECLOADER_H
#define LMC_FRONTEND_SPECLOADER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

namespace lmc::frontend {

/// Declares the model in `sourceMgr`'s main buffer (a YAML spec) and returns
/// its module, or null after reporting errors through the context's
/// diagnostic handler. Relative vocabulary files are read from the spec's
/// folder.
mlir::OwningOpRef<mlir::ModuleOp> loadModelSpec(llvm::SourceMgr &sourceMgr,
                                                mlir::MLIRContext &context);

/// True for the file names lmc treats as specs (.yaml, .yml).
bool isModelSpecPath(llvm::StringRef path);

} // namespace lmc::frontend

#endif // LMC_FRONTEND_SPECLOADER_H
