// BackendTestSupport.cpp - compiled example packages and random examples.

#include "BackendTestSupport.h"

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"

#include "../passes/PassNumerics.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"


namespace lmc::testing {

namespace {

std::string compile(mlir::ModuleOp module, mlir::lmc::CompileOptions options) {
  options.formKernels = true;
  if (mlir::failed(mlir::lmc::runCompilePipeline(module, options)))
    return "";
  // The precision as `lmc compile` names it (a trainer scales f16 losses).
  const char *precision = options.precision == mlir::lmc::Precision::FP16   ? "fp16"
                          : options.precision == mlir::lmc::Precision::BF16 ? "bf16"
                                                                            : "fp32";
  mlir::FailureOr<std::string> bytes = mlir::lmc::writeArtifact(module, precision);
  return mlir::succeeded(bytes) ? *bytes : "";
}

} // namespace

std::string compileExample(const std::string &name, mlir::lmc::CompileOptions options) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::lmc::testing::loadExample(name, context);
  return module ? compile(*module, options) : "";
}

std::string compileSource(const std::string &source, mlir::lmc::CompileOptions options) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, mlir::ParserConfig(&context));
  return module ? compile(*module, options) : "";
}

} // namespace lmc::testing
