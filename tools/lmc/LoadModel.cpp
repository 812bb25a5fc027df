//===- LoadModel.cpp - read a model for any lmc subcommand ----------------===//

#include "tools/lmc/LoadModel.h"

#include "frontend/SpecLoader.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/WithColor.h"

namespace lmc::tools {

mlir::OwningOpRef<mlir::ModuleOp> loadModel(llvm::StringRef path,
                                            llvm::StringRef command,
                                            llvm::SourceMgr &sourceMgr,
                                            mlir::MLIRContext &context) {
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = mlir::openInputFile(path, &error);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), command) << error << "\n";
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  // A YAML spec declares the model through the frontend; anything else is
  // read as lmc IR.
  return lmc::frontend::isModelSpecPath(path)
             ? lmc::frontend::loadModelSpec(sourceMgr, context)
             : mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
}

} // namespace lmc::tools
