// EmptySequencesEmulationTest.cpp - examples whose sequences are empty, on
// the CUDA backend of an emulated device against the CPU backend: every
// pooling mode and a transformer over a sequence input, with batches that
// hold no tokens at all. Such an example owns no token, so every value it
// outputs must be written by its own batch (the emulator's fresh memory is
// NaN, and a stale value from an earlier batch differs from the CPU's).

#include "CudaTestSupport.h"

#include "io/ExampleJson.h"
#include "session/Model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

const std::string kInputs = LMC_SOURCE_DIR "/test/lit/runtime/Inputs/";

TEST(EmptySequencesEmulation, EveryPoolAndTheTransformerMatchTheCpuBackend) {
  mlir::lmc::CompileOptions options;
  options.maxBatch = 8; // many batches, several of them without tokens
  options.maxSequence = 8;
  options.maxTokens = 32;
  std::string bytes =
      lmc::testing::compileSpecFileWithCode(kInputs + "empty-sequences.yaml", options);
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, 75, onCpu, onGpu, error)) << error;
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  ASSERT_TRUE(onCpu->generateWeights(3, weights, error)) << error;
  ASSERT_TRUE(onCpu->setWeights({weights.begin(), weights.end()}, error)) << error;
  ASSERT_TRUE(onGpu->setWeights({weights.begin(), weights.end()}, error)) << error;

  std::vector<rt::Example> examples;
  ASSERT_TRUE(rt::readExamplesFile(kInputs + "empty-sequences.jsonl", examples, error)) << error;
  rt::PackingOptions packing;
  std::vector<rt::ExampleOutputs> expected, got;
  rt::RunStatistics statistics;
  ASSERT_TRUE(onCpu->run(examples, packing, expected, statistics, error)) << error;
  ASSERT_TRUE(onGpu->run(examples, packing, got, statistics, error)) << error;
  EXPECT_GT(statistics.batches, 10u);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t e = 0; e < expected.size(); ++e)
    for (size_t o = 0; o < expected[e].outputs.size(); ++o) {
      const cpu::Tensor &x = got[e].outputs[o], &y = expected[e].outputs[o];
      ASSERT_EQ(x.shape, y.shape) << "example " << e << " output " << o;
      for (int64_t i = 0; i < x.numElements(); ++i)
        ASSERT_NEAR(cpu::realAt(x, i), cpu::realAt(y, i), 1e-5 + 1e-5 * std::fabs(cpu::realAt(y, i)))
            << "example " << e << " output " << onCpu->plan().outputs[o].name << " element " << i;
    }
}

} // namespace
