// Tests that --lmc-remove-padding keeps every sequence's outputs: both
// example models are evaluated padded and packed on random inputs whose
// lengths range from 1 to S, and on a batch where every sequence is full.

#include "compiler/Registration.h"
#include "compiler/eval/Evaluator.h"
#include "frontend/SpecLoader.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/SourceMgr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlir::lmc {
namespace {

constexpr int64_t kBatch = 3, kSequence = 5;

// Random inputs: dynamic batch and sequence sizes become 3 and 5; inputs
// tagged lmc.ingest = "lengths" take `lengths`; other integers are ids or
// fingerprints, floats lie in [-1, 1] away from zero.
SmallVector<eval::EvalTensor> inputsFor(func::FuncOp function, uint64_t seed,
                                        ArrayRef<int64_t> lengths) {
  std::mt19937_64 engine(seed);
  SmallVector<eval::EvalTensor> inputs;
  for (auto [index, type] : llvm::enumerate(function.getArgumentTypes())) {
    auto shaped = llvm::cast<RankedTensorType>(type);
    SmallVector<int64_t> shape;
    for (auto [d, dim] : llvm::enumerate(shaped.getShape()))
      shape.push_back(ShapedType::isDynamic(dim) ? (d == 0 ? kBatch : kSequence) : dim);
    auto tensor = eval::EvalTensor::zeros(shape, shaped.getElementType());
    auto ingest = function.getArgAttrOfType<StringAttr>(index, "lmc.ingest");
    if (ingest && ingest.getValue() == "lengths") {
      tensor.integers.assign(lengths.begin(), lengths.end());
    } else {
      for (int64_t &value : tensor.integers)
        value = int64_t(engine() % 1000);
      for (double &value : tensor.reals)
        value = (double(engine() % 1000) + 1) / 1000.0 * (engine() % 2 ? 1 : -1);
    }
    inputs.push_back(std::move(tensor));
  }
  return inputs;
}

class RemovePaddingNumerics : public ::testing::TestWithParam<const char *> {};

TEST_P(RemovePaddingNumerics, EverySequenceKeepsItsOutputs) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  std::string path = std::string(LMC_SOURCE_DIR "/examples/") + GetParam();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(buffer)) << path;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  OwningOpRef<ModuleOp> padded = ::lmc::frontend::loadModelSpec(sourceMgr, context);
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
    SmallVector<eval::EvalTensor> inputs = inputsFor(original, lengths[0] * 7 + 1, lengths);
    auto parameters = eval::Parameters::fromSeed(5);
    auto expected = eval::evaluate(original, inputs, parameters);
    auto actual = eval::evaluate(function, inputs, parameters);
    ASSERT_TRUE(succeeded(expected) && succeeded(actual));
    for (size_t r = 0; r < expected->size(); ++r) {
      const auto &want = (*expected)[r], &got = (*actual)[r];
      ASSERT_EQ(want.shape, got.shape);
      double error = 0, norm = 0;
      for (size_t i = 0; i < want.reals.size(); ++i) {
        error += std::pow(got.reals[i] - want.reals[i], 2);
        norm += std::pow(want.reals[i], 2);
      }
      EXPECT_LT(std::sqrt(error / norm), 1e-5) << GetParam() << " output " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, RemovePaddingNumerics,
                         ::testing::Values("text_encoder.yaml", "bst_ranker.yaml"));

} // namespace
} // namespace mlir::lmc
