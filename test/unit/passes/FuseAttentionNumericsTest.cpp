// Tests that --lmc-fuse-attention never changes numerics: every case of
// test/lit/passes/fuse-attention.mlir is evaluated before and after the pass
// on random inputs (fresh seeds, never zeros) and must agree within 1e-5
// relative L2; at least six distinct spellings must actually be fused.

#include "PassNumerics.h"

#include "compiler/Registration.h"
#include "compiler/eval/Evaluator.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>


namespace mlir::lmc::testing {
namespace {

TEST(FuseAttentionNumerics, EveryCaseKeepsItsNumbers) {
  auto file = llvm::MemoryBuffer::getFile(LMC_SOURCE_DIR "/test/lit/passes/fuse-attention.mlir");
  ASSERT_TRUE(bool(file));
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  std::string errors;
  context.getDiagEngine().registerHandler([&](Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() == DiagnosticSeverity::Error)
      errors += diagnostic.str() + "\n";
  }); // the pass's remarks are expected; errors are not

  SmallVector<StringRef> cases;
  (*file)->getBuffer().split(cases, "// -----");
  int fused = 0;
  for (auto [index, source] : llvm::enumerate(cases)) {
    // A copy: the parser reads up to a terminating NUL.
    std::string text = source.str();
    OwningOpRef<ModuleOp> before = parseSourceString<ModuleOp>(text, &context);
    ASSERT_TRUE(before) << "case " << index << ": " << errors;
    OwningOpRef<ModuleOp> after = before->clone();
    PassManager pm(&context);
    pm.addNestedPass<func::FuncOp>(createFuseAttentionPass());
    ASSERT_TRUE(succeeded(pm.run(*after)));
    bool didFuse = false;
    after->walk([&](AttentionOp) { didFuse = true; });
    fused += didFuse;

    auto original = *before->getOps<func::FuncOp>().begin();
    auto rewritten = *after->getOps<func::FuncOp>().begin();
    for (uint64_t seed : {index * 3 + 1, index * 3 + 2}) {
      double error = worstOutputError(original, rewritten,
                                      randomInputs(original, seed), seed);
      EXPECT_GE(error, 0) << "case " << index << " failed to evaluate";
      EXPECT_LT(error, 1e-5) << original.getSymName().str() << " seed " << seed;
    }
  }
  EXPECT_GE(fused, 6);
}

} // namespace
} // namespace mlir::lmc::testing
