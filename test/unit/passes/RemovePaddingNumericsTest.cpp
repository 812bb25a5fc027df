// Tests that --lmc-remove-padding keeps every sequence's outputs: both
// example models are evaluated padded and packed on random inputs whose
// lengths range from 1 to S, and on a batch where every sequence is full;
// a model returning per-token states keeps every real row.

#include "PassNumerics.h"

#include "compiler/Registration.h"
#include "frontend/ModelBuilder.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>

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

// A per-token output (an encoder's states) keeps every real row; padding
// rows become zero.
TEST(RemovePaddingOutputs, RealRowsOfPerTokenOutputsAreKept) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  ::lmc::frontend::ModelBuilder model(context, "states");
  ::lmc::frontend::EmbeddingOptions embedding;
  embedding.dimension = 8;
  auto tokens = model.sequenceCategoricalWithIdentity(
      "tokens", 50, std::nullopt, ::lmc::frontend::CategoricalOptions());
  auto sentence = model.sequenceInput({model.embedding(tokens, embedding)});
  ::lmc::frontend::TransformerOptions encoder;
  encoder.layers = 2;
  encoder.heads = 2;
  encoder.headDim = 4;
  encoder.ffn = 16;
  model.output("states", model.transformerEncoder(sentence, encoder, "enc").values);
  OwningOpRef<ModuleOp> padded = model.finish();
  ASSERT_TRUE(padded);
  OwningOpRef<ModuleOp> packed = padded->clone();
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(createRemovePaddingPass());
  ASSERT_TRUE(succeeded(pm.run(*packed)));
  int pads = 0;
  packed->walk([&](PadOp) { ++pads; });
  EXPECT_EQ(pads, 1);

  auto original = *padded->getOps<func::FuncOp>().begin();
  auto function = *packed->getOps<func::FuncOp>().begin();
  SmallVector<int64_t> lengths{1, kSequence, 3};
  auto inputs = randomInputs(original, 9, lengths);
  auto parameters = eval::Parameters::fromSeed(9);
  auto want = eval::evaluate(original, inputs, parameters);
  auto got = eval::evaluate(function, inputs, parameters);
  ASSERT_TRUE(succeeded(want) && succeeded(got));
  const eval::EvalTensor &a = (*want)[0], &b = (*got)[0];
  ASSERT_EQ(a.shape, b.shape);
  int64_t width = a.shape[2];
  for (int64_t batch = 0; batch < kBatch; ++batch)
    for (int64_t t = 0; t < kSequence; ++t)
      for (int64_t d = 0; d < width; ++d) {
        size_t at = size_t((batch * kSequence + t) * width + d);
        if (t < lengths[size_t(batch)])
          EXPECT_NEAR(b.reals[at], a.reals[at], 1e-6 * (1 + std::abs(a.reals[at])));
        else
          EXPECT_EQ(b.reals[at], 0.0);
      }
}

// Padded pooling written op by op (a masked sum and a first-token slice)
// gives the same per-sequence rows as segment_reduce over packed tokens.
TEST(RemovePaddingOutputs, PaddedPoolingBecomesSegmentReduce) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> padded = parseSourceString<ModuleOp>(R"mlir(
    func.func @pools(%x: tensor<?x5x2x4xf32>, %len: tensor<?xi32>) -> (tensor<?x8xf32>, tensor<?x1x8xf32>) {
      %a = lmc.attention %x, %x, %x lengths(%len) : (tensor<?x5x2x4xf32>, tensor<?x5x2x4xf32>, tensor<?x5x2x4xf32>, tensor<?xi32>) -> tensor<?x5x2x4xf32>
      %h = lmc.reshape %a : tensor<?x5x2x4xf32> -> tensor<?x5x8xf32>
      %iota = lmc.constant dense<[[0], [1], [2], [3], [4]]> : tensor<5x1xi32>
      %l = lmc.reshape %len : tensor<?xi32> -> tensor<?x1x1xi32>
      %valid = lmc.compare lt, %iota, %l : (tensor<5x1xi32>, tensor<?x1x1xi32>) -> tensor<?x5x1xi1>
      %zero = lmc.constant dense<0.0> : tensor<f32>
      %m = lmc.select %valid, %h, %zero : (tensor<?x5x1xi1>, tensor<?x5x8xf32>, tensor<f32>) -> tensor<?x5x8xf32>
      %s = lmc.reduce_sum %m axis 1 : tensor<?x5x8xf32> -> tensor<?x8xf32>
      %f = lmc.slice %h axis 1 start 0 limit 1 : tensor<?x5x8xf32> -> tensor<?x1x8xf32>
      return %s, %f : tensor<?x8xf32>, tensor<?x1x8xf32>
    })mlir", &context);
  ASSERT_TRUE(padded);
  OwningOpRef<ModuleOp> packed = padded->clone();
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(createRemovePaddingPass());
  ASSERT_TRUE(succeeded(pm.run(*packed)));
  int segmentReductions = 0;
  packed->walk([&](SegmentReduceOp) { ++segmentReductions; });
  EXPECT_EQ(segmentReductions, 2);
  auto original = *padded->getOps<func::FuncOp>().begin();
  auto function = *packed->getOps<func::FuncOp>().begin();
  for (uint64_t seed : {4, 5}) {
    double error = worstOutputError(original, function, randomInputs(original, seed), seed);
    EXPECT_GE(error, 0) << "evaluation failed";
    EXPECT_LT(error, 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, RemovePaddingNumerics,
                         ::testing::Values("text_encoder.yaml", "bst_ranker.yaml"));

} // namespace
} // namespace mlir::lmc::testing
