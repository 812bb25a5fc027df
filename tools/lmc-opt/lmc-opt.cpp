//===- lmc-opt.cpp - the pass driver lit tests run ------------------------===//
//
// A thin MlirOptMain wrapper: the lmc dialects, every lmc pass, and the
// upstream passes the compile pipeline uses, so any pipeline step can be run
// and checked alone.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "passes/Passes.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::lmc::registerLmcPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "lmc pass driver\n", registry));
}
