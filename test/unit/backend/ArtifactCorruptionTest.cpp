// ArtifactCorruptionTest.cpp - damaged packages are rejected with a message,
// never a crash: truncated at every 1 KiB boundary, random byte flips (the
// envelope's checksum), flips inside a re-sealed payload (the verifier and
// lmc's structural checks; whatever still loads must run or fail cleanly),
// and another format version.

#include "BackendTestSupport.h"

#include "artifact/Envelope.h"
#include "session/Model.h"

#include <gtest/gtest.h>

#include <random>

namespace {

namespace rt = ::lmc::rt;

class ArtifactCorruption : public ::testing::TestWithParam<const char *> {
protected:
  void SetUp() override {
    bytes = ::lmc::testing::compileExample(GetParam(), {});
    ASSERT_FALSE(bytes.empty());
    rt::Status status;
    ASSERT_TRUE(rt::Model::fromBytes(bytes, status)) << status;
  }
  std::string bytes;
};

TEST_P(ArtifactCorruption, TruncationAtEveryKibibyteIsRejected) {
  size_t rejected = 0;
  for (size_t size = 0; size < bytes.size(); size += 1024) {
    rt::Status status;
    EXPECT_FALSE(rt::Model::fromBytes(bytes.substr(0, size), status)) << size;
    EXPECT_FALSE(status.message().empty());
    ++rejected;
  }
  EXPECT_GE(rejected, bytes.size() / 1024);
}

TEST_P(ArtifactCorruption, EveryRandomByteFlipIsRejected) {
  std::mt19937_64 engine(42);
  for (int i = 0; i < 2000; ++i) {
    std::string damaged = bytes;
    size_t at = engine() % damaged.size();
    damaged[at] = char(damaged[at] ^ uint8_t(1 + engine() % 255));
    rt::Status status;
    EXPECT_FALSE(rt::Model::fromBytes(damaged, status)) << "byte " << at;
    EXPECT_FALSE(status.message().empty());
  }
}

// Flips behind a valid envelope reach the flatbuffers verifier and the
// structural checks. Some flips land in data no check can judge (a weight
// initializer's stddev, a kernel's name); such a package loads, and must
// then run or fail with a message.
TEST_P(ArtifactCorruption, PayloadFlipsAreRejectedOrRunCleanly) {
  std::string payload = bytes.substr(rt::kEnvelopeBytes);
  rt::Status status;
  // Weights from the undamaged package: a damaged parameter shape must be
  // caught when the weights are set, as with a user's weights file.
  std::vector<std::pair<std::string, ::lmc::cpu::Tensor>> weights;
  ASSERT_TRUE(rt::Model::fromBytes(bytes, status)->generateWeights(1, weights, status));
  std::mt19937_64 engine(7);
  int rejected = 0, ran = 0, failedCleanly = 0;
  for (int i = 0; i < 400; ++i) {
    std::string damaged = payload;
    size_t at = engine() % damaged.size();
    damaged[at] = char(damaged[at] ^ uint8_t(1 + engine() % 255));
    auto model = rt::Model::fromBytes(
        rt::wrapArtifact(reinterpret_cast<const uint8_t *>(damaged.data()), damaged.size()),
        status);
    if (!model) {
      EXPECT_FALSE(status.message().empty());
      ++rejected;
      continue;
    }
    // A damaged shape may ask for any size; the limit turns that into a
    // message.
    model->setMemoryLimit(int64_t(64) << 20);
    std::vector<rt::ExampleOutputs> outputs;
    rt::RunStatistics statistics;
    auto examples = ::lmc::testing::randomExamples(model->plan(), 3, 4, uint64_t(i));
    rt::Status status;
    bool ok = model->setWeights({weights.begin(), weights.end()}, status) &&
              model->run(examples, {}, outputs, statistics, status);
    ok ? ++ran : ++failedCleanly;
    if (!ok)
      EXPECT_FALSE(status.message().empty());
  }
  std::printf("%s: %d flips rejected at load, %d loaded and failed cleanly, %d ran\n",
              GetParam(), rejected, failedCleanly, ran);
  EXPECT_GT(rejected, 0);
}

TEST_P(ArtifactCorruption, AnotherFormatVersionIsRejected) {
  std::string payload = bytes.substr(rt::kEnvelopeBytes);
  auto *model = ::lmc::fb::GetMutableModel(payload.data());
  ASSERT_TRUE(model->mutate_format_version(rt::kFormatVersion + 1));
  rt::Status status;
  EXPECT_FALSE(rt::Model::fromBytes(
      rt::wrapArtifact(reinterpret_cast<const uint8_t *>(payload.data()), payload.size()),
      status));
  EXPECT_EQ(status.message(), "the artifact has format version " +
                                  std::to_string(rt::kFormatVersion + 1) +
                                  "; this runtime reads version " +
                                  std::to_string(rt::kFormatVersion) +
                                  " (recompile the model with this lmc)");
}

TEST_P(ArtifactCorruption, OtherFilesAreNotPackages) {
  rt::Status status;
  EXPECT_FALSE(rt::Model::fromBytes("model: bst_ranker\n", status));
  EXPECT_EQ(status.message(), "not an lmc package (no LMCPKG header)");
  EXPECT_FALSE(rt::Model::fromBytes(bytes + "x", status));
  EXPECT_NE(status.message().find("trailing bytes"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Examples, ArtifactCorruption,
                         ::testing::Values("bst_ranker.yaml", "text_encoder.yaml"),
                         [](const ::testing::TestParamInfo<const char *> &info) {
                           return std::string(info.param).substr(
                               0, std::string(info.param).find('.'));
                         });

} // namespace
