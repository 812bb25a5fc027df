// TensorFlowColumnsEmulationTest.cpp - the TensorFlow feature-column fixture
// (test/fixtures/tensorflow_columns, computed by TensorFlow) on the CUDA
// backend of an emulated device: every case's spec, tables and examples,
// each output within 1e-6 of TensorFlow's. lit's tensorflow-columns.test
// checks the same cases through lmc eval and lmc run on the CPU.

#include "CudaTestSupport.h"

#include "io/ExampleJson.h"
#include "session/Model.h"
#include "weights/Safetensors.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

const std::string kFixture = LMC_SOURCE_DIR "/test/fixtures/tensorflow_columns/";

/// Each line's "out" numbers, flattened.
std::vector<std::vector<double>> readExpected(const std::string &path) {
  std::vector<std::vector<double>> rows;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return rows;
  llvm::SmallVector<llvm::StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef line : lines) {
    rows.emplace_back();
    llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(line);
    if (!parsed) {
      llvm::consumeError(parsed.takeError());
      continue;
    }
    if (const llvm::json::Array *out = parsed->getAsObject()->getArray("out"))
      for (const llvm::json::Value &number : *out)
        rows.back().push_back(number.getAsNumber().value_or(NAN));
  }
  return rows;
}

class TensorFlowColumnsEmulation : public ::testing::TestWithParam<const char *> {};

TEST_P(TensorFlowColumnsEmulation, MatchesTensorFlow) {
  std::string base = kFixture + GetParam();
  mlir::lmc::CompileOptions options;
  options.maxBatch = 8; // several batches per case
  std::string bytes = lmc::testing::compileSpecFileWithCode(base + ".yaml", options);
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, 90, onCpu, onGpu, error)) << error;
  std::map<std::string, cpu::Tensor> tables;
  ASSERT_TRUE(rt::readSafetensors(base + ".safetensors", tables, error)) << error;
  ASSERT_TRUE(onGpu->setWeights(std::move(tables), error)) << error;

  std::vector<rt::Example> examples;
  ASSERT_TRUE(rt::readExamplesFile(base + ".jsonl", examples, error)) << error;
  std::vector<rt::ExampleOutputs> got;
  rt::RunStatistics statistics;
  ASSERT_TRUE(onGpu->run(examples, rt::PackingOptions(), got, statistics, error)) << error;
  std::vector<std::vector<double>> expected = readExpected(base + ".expected.jsonl");
  ASSERT_EQ(got.size(), expected.size());
  for (size_t e = 0; e < expected.size(); ++e) {
    ASSERT_EQ(got[e].outputs.size(), 1u);
    const cpu::Tensor &out = got[e].outputs[0];
    ASSERT_EQ(size_t(out.numElements()), expected[e].size()) << "example " << e;
    for (size_t i = 0; i < expected[e].size(); ++i)
      EXPECT_NEAR(cpu::realAt(out, int64_t(i)), expected[e][i], 1e-6 + 1e-6 * std::fabs(expected[e][i]))
          << GetParam() << " example " << e << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixture, TensorFlowColumnsEmulation,
    ::testing::Values("bucketized", "bucketized_direct", "crossed_columns", "crossed_int64_key",
                      "crossed_keys", "crossed_legacy_fields", "crossed_multivalent",
                      "crossed_nested", "embedding_combiners", "empty_sequences", "hash_bucket",
                      "identity", "indicator", "long_type_names", "missing_categorical", "numeric",
                      "numeric_int64", "sequence_embedding", "sequence_embedding_first",
                      "sequence_embedding_max", "sequence_indicator", "sequence_numeric",
                      "sequence_numeric_max", "shared_embeddings", "subnormal", "vocabulary_file",
                      "vocabulary_list_int64", "vocabulary_list_string", "weighted"),
    [](const ::testing::TestParamInfo<const char *> &info) { return std::string(info.param); });

} // namespace
