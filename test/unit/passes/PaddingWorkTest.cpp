// Tests what padding removal is for: on the 4-layer text encoder and a batch
// with 84% padding (8 sequences of 4 to 16 tokens, padded to 64), the packed
// kernel graph does at most 1.05x the arithmetic of running each sequence
// alone without padding, while the padded graph does several times more.

#include "PassNumerics.h"

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "compiler/eval/FlopCount.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

namespace mlir::lmc::testing {
namespace {

TEST(PaddingWork, PackedEncoderDoesTheWorkOfItsRealTokens) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  context.getDiagEngine().registerHandler([](Diagnostic &) {}); // plan remarks
  OwningOpRef<ModuleOp> padded = loadExample("text_encoder.yaml", context);
  ASSERT_TRUE(padded);
  OwningOpRef<ModuleOp> kernels = padded->clone();
  CompileOptions options;
  options.formKernels = true;
  ASSERT_TRUE(succeeded(runCompilePipeline(*kernels, options)));

  const SmallVector<int64_t> lengths{4, 6, 8, 10, 12, 14, 16, 12};
  const int64_t batch = 8, sequence = 64;
  int64_t real = 0;
  for (int64_t length : lengths)
    real += length;
  ASSERT_EQ(real, 82); // 16% of 8 x 64: 84% padding

  auto paddedFunction = *padded->getOps<func::FuncOp>().begin();
  auto kernelFunction = *kernels->getOps<func::FuncOp>().begin();
  auto parameters = eval::Parameters::fromSeed(1);
  auto inputs = randomInputs(paddedFunction, 1, lengths, batch, sequence);
  auto paddedWork = eval::countFlops(paddedFunction, inputs, parameters);
  auto packedWork = eval::countFlops(kernelFunction, inputs, parameters);
  ASSERT_TRUE(succeeded(paddedWork) && succeeded(packedWork));

  // The work on real tokens: each sequence alone, unpadded.
  double ideal = 0;
  for (int64_t length : lengths) {
    auto alone = randomInputs(paddedFunction, 2, {length}, 1, length);
    auto work = eval::countFlops(paddedFunction, alone, parameters);
    ASSERT_TRUE(succeeded(work));
    ideal += work->total();
  }
  double packedRatio = packedWork->total() / ideal;
  double paddedRatio = paddedWork->total() / ideal;
  RecordProperty("packed_over_real", std::to_string(packedRatio));
  RecordProperty("padded_over_real", std::to_string(paddedRatio));
  EXPECT_LE(packedRatio, 1.05);
  // Slightly below 1 is expected: the per-sequence runs each pay for their
  // own (uncompiled) bookkeeping; far below would mean real work skipped.
  EXPECT_GE(packedRatio, 0.95);
  EXPECT_GT(paddedRatio, 4.0);
}

} // namespace
} // namespace mlir::lmc::testing
