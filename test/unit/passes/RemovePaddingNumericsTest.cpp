// Tests that --lmc-remove-padding keeps every sequence's outputs: both
// example models are evaluated padded and packed on random inputs whose
// lengths range from 1 to S, and on a batch where every sequence is full.

#include "PassNumerics.h"

#include "compiler/Registration.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

namespace mlir::lmc::testing {
namespace {

class RemovePaddingNumerics : public ::testing::TestWithParam<const char *> {};

TEST_P(RemovePaddingNumerics, EverySequenceKeepsItsOutputs) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> padded = loadExample(GetParam(), context);
  ASSERT_TRUE(padded);

  OwningOpRef<ModuleOp> packed = padded->clone();
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(createRemovePaddingPass());
  pm.addPass(createCanonicalizerPass());
  ASSERT_TRUE(succeeded(pm.run(*packed)));

  // After the pass only the boundary unpads read [B, S] values.
  auto function = *packed->getOps<func::FuncOp>().begin();
  function.walk([&](Operation *op) {
    if (isa<UnpadOp, func::ReturnOp>(op))
      return;
    for (Value result : op->getResults())
      if (auto type = llvm::dyn_cast<RankedTensorType>(result.getType()))
        EXPECT_FALSE(type.getRank() >= 2 && type.isDynamicDim(0) && type.isDynamicDim(1))
            << "still padded: " << op->getName().getStringRef().str();
  });
  int packedAttention = 0;
  function.walk([&](AttentionOp op) { packedAttention += op.isPacked(); });
  EXPECT_GT(packedAttention, 0);

  auto original = *padded->getOps<func::FuncOp>().begin();
  for (auto lengths : {SmallVector<int64_t>{1, kSequence, 3},
                       SmallVector<int64_t>{kSequence, kSequence, kSequence}}) {
    auto inputs = randomInputs(original, lengths[0] * 7 + 1, lengths);
    double error = worstOutputError(original, function, inputs, 5);
    EXPECT_GE(error, 0) << "evaluation failed";
    EXPECT_LT(error, 1e-5) << GetParam();
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, RemovePaddingNumerics,
                         ::testing::Values("text_encoder.yaml", "bst_ranker.yaml"));

} // namespace
} // namespace mlir::lmc::testing
