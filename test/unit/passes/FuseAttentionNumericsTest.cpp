// Tests that --lmc-fuse-attention never changes numerics: every case of
// test/lit/passes/fuse-attention.mlir is evaluated before and after the pass
// on random inputs (fresh seeds, never zeros) and must agree within 1e-5
// relative L2; at least six distinct spellings must actually be fused.

#include "compiler/Registration.h"
#include "compiler/eval/Evaluator.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlir::lmc {
namespace {

// Random inputs for `function`: dynamic sizes become 2; floats uniform in
// [-1, 1] away from zero; integers (sequence lengths here) in [1, 4].
SmallVector<eval::EvalTensor> randomInputs(func::FuncOp function, uint64_t seed) {
  std::mt19937_64 engine(seed);
  SmallVector<eval::EvalTensor> inputs;
  for (Type type : function.getArgumentTypes()) {
    auto shaped = llvm::cast<RankedTensorType>(type);
    SmallVector<int64_t> shape;
    for (int64_t dim : shaped.getShape())
      shape.push_back(ShapedType::isDynamic(dim) ? 2 : dim);
    auto tensor = eval::EvalTensor::zeros(shape, shaped.getElementType());
    for (double &value : tensor.reals) {
      value = double(engine() % 1000 + 1) / 1000.0;
      if (engine() % 2)
        value = -value;
    }
    for (int64_t &value : tensor.integers)
      value = int64_t(engine() % 4) + 1;
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

double relativeL2(const eval::EvalTensor &actual, const eval::EvalTensor &expected) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < expected.reals.size(); ++i) {
    error += std::pow(actual.reals[i] - expected.reals[i], 2);
    norm += std::pow(expected.reals[i], 2);
  }
  return std::sqrt(error / std::max(norm, 1e-300));
}

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
      SmallVector<eval::EvalTensor> inputs = randomInputs(original, seed);
      auto parameters = eval::Parameters::fromSeed(seed);
      auto expected = eval::evaluate(original, inputs, parameters);
      auto actual = eval::evaluate(rewritten, inputs, parameters);
      ASSERT_TRUE(succeeded(expected) && succeeded(actual)) << "case " << index;
      for (size_t r = 0; r < expected->size(); ++r)
        EXPECT_LT(relativeL2((*actual)[r], (*expected)[r]), 1e-5)
            << original.getSymName().str() << " result " << r << " seed " << seed;
    }
  }
  EXPECT_GE(fused, 6);
}

} // namespace
} // namespace mlir::lmc
