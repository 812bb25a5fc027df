//===- LoadModel.cpp - read a model for any lmc subcommand ----------------===//

#include "tools/lmc/LoadModel.h"

#include "compiler/Registration.h"
#include "frontend/SpecLoader.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/WithColor.h"

namespace lmc::tools {

static mlir::DialectRegistry lmcDialects() {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  return registry;
}

ModelSession::ModelSession(llvm::StringRef path, llvm::StringRef command)
    : context(lmcDialects()), diagnostics(sourceMgr, &context) {
  // Remarks and errors point at a location; a dump of the whole op after
  // each would bury them.
  context.printOpOnDiagnostic(false);
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = mlir::openInputFile(path, &error);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), command) << error << "\n";
    return;
  }
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  // A YAML spec declares the model through the frontend; anything else is
  // read as lmc IR.
  module = lmc::frontend::isModelSpecPath(path)
               ? lmc::frontend::loadModelSpec(sourceMgr, context)
               : mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
}

} // namespace lmc::tools
