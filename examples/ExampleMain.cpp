//===- ExampleMain.cpp - the main() of the C++ example models -------------===//

#include "examples/ExampleMain.h"

#include "compiler/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

int runExample(int argc, char **argv, llvm::StringRef modelName,
               llvm::function_ref<void(lmc::frontend::ModelBuilder &)> declare) {
  std::string output = "-";
  if (argc == 3 && llvm::StringRef(argv[1]) == "-o") {
    output = argv[2];
  } else if (argc != 1) {
    llvm::errs() << "usage: " << argv[0] << " [-o model.mlir]\n";
    return 1;
  }
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  lmc::frontend::ModelBuilder model(context, modelName);
  declare(model);
  mlir::OwningOpRef<mlir::ModuleOp> module = model.finish();
  if (!module)
    return 1;
  llvm::Error written = llvm::writeToOutput(output, [&](llvm::raw_ostream &os) {
    module->print(os);
    return llvm::Error::success();
  });
  if (written) {
    llvm::WithColor::error(llvm::errs(), modelName)
        << llvm::toString(std::move(written)) << "\n";
    return 1;
  }
  return 0;
}
