// BackendTestSupport.cpp - compiled example packages and random examples.

#include "BackendTestSupport.h"

#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"

#include "../passes/PassNumerics.h"

#include "mlir/IR/MLIRContext.h"


namespace lmc::testing {

std::string compileExample(const std::string &name, mlir::lmc::CompileOptions options) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::lmc::testing::loadExample(name, context);
  options.formKernels = true;
  if (!module || mlir::failed(mlir::lmc::runCompilePipeline(*module, options)))
    return "";
  // The precision as `lmc compile` names it (a trainer scales f16 losses).
  const char *precision = options.precision == mlir::lmc::Precision::FP16   ? "fp16"
                          : options.precision == mlir::lmc::Precision::BF16 ? "bf16"
                                                                            : "fp32";
  mlir::FailureOr<std::string> bytes = mlir::lmc::writeArtifact(*module, precision);
  return mlir::succeeded(bytes) ? *bytes : "";
}

} // namespace lmc::testing
