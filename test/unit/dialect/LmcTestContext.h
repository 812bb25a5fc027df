//===- LmcTestContext.h - a context and builder for dialect tests -*- C++ -*-===//

#ifndef LMC_TEST_UNIT_DIALECT_LMCTESTCONTEXT_H
#define LMC_TEST_UNIT_DIALECT_LMCTESTCONTEXT_H

#include "compiler/Registration.h"
#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <string>

namespace mlir::lmc::testing {

/// A context with the lmc dialects loaded, a module, and a builder placed in
/// the body of a function whose arguments the test chooses. Diagnostics are
/// collected in `diagnostics` instead of being printed.
class LmcTest : public ::testing::Test {
protected:
  LmcTest() : builder(&context) {
    DialectRegistry registry;
    registerLmcDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    context.getDiagEngine().registerHandler([this](Diagnostic &diagnostic) {
      diagnostics += diagnostic.str() + "\n";
    });
    module = ModuleOp::create(builder.getUnknownLoc());
  }

  /// Creates `func.func @test(types...)` and leaves the builder in its body.
  Block *startFunction(TypeRange argumentTypes) {
    builder.setInsertionPointToEnd(module->getBody());
    auto function = builder.create<func::FuncOp>(
        builder.getUnknownLoc(), "test",
        builder.getFunctionType(argumentTypes, {}));
    Block *body = function.addEntryBlock();
    builder.setInsertionPointToEnd(body);
    return body;
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type element) {
    return RankedTensorType::get(shape, element);
  }

  Location loc() { return builder.getUnknownLoc(); }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
  std::string diagnostics;
};

} // namespace mlir::lmc::testing

#endif // LMC_TEST_UNIT_DIALECT_LMCTESTCONTEXT_H
