// Tests the CPU feature-column kernels on hand-worked cases, TensorFlow's
// documented examples among them.

#include "cpu/FeatureColumnKernels.h"

#include "lmc/fingerprint.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace lmc::cpu {
namespace {

TEST(Bucketize, TensorFlowDocumentedExample) {
  // tf.raw_ops.Bucketize: boundaries [0, 10, 100],
  // [[-5, 10000], [150, 10], [5, 100]] -> [[0, 3], [3, 2], [1, 3]].
  std::vector<float> input{-5, 10000, 150, 10, 5, 100};
  std::vector<int64_t> output(input.size());
  bucketize(input.data(), input.size(), {0, 10, 100}, output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{0, 3, 3, 2, 1, 3}));
}

TEST(Bucketize, BoundariesAreLeftInclusive) {
  std::vector<float> input{-0.0f, 0.0f, 9.999f, 10.0f};
  std::vector<int64_t> output(input.size());
  bucketize(input.data(), input.size(), {0, 10}, output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{1, 1, 1, 2}));
}

TEST(Numeric, NormalizersAndDefault) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> input{14, nan}, output(2);
  NumericParameters<float> zscore;
  zscore.normalizer = Normalizer::ZScore;
  zscore.mean = 10;
  zscore.stddev = 2;
  zscore.defaultValue = 10;
  numeric(input.data(), 2, zscore, output.data());
  EXPECT_EQ(output, (std::vector<float>{2, 0}));

  NumericParameters<float> minmax;
  minmax.normalizer = Normalizer::MinMax;
  minmax.min = 0;
  minmax.max = 4;
  numeric(input.data(), 2, minmax, output.data());
  EXPECT_FLOAT_EQ(output[0], 3.5f);
  EXPECT_TRUE(std::isnan(output[1])); // no default: missing stays NaN

  NumericParameters<float> log1p;
  log1p.normalizer = Normalizer::Log1p;
  float e1 = std::exp(1.0f) - 1;
  numeric(&e1, 1, log1p, output.data());
  EXPECT_FLOAT_EQ(output[0], 1.0f);
}

TEST(HashBucket, FingerprintIsUnsigned) {
  // -1 is the fingerprint 2^64 - 1, and 18446744073709551615 % 10 == 5.
  int64_t us = int64_t(lmc_fingerprint64("US", 2));
  std::vector<int64_t> input{-1, 7, us}, output(3);
  hashBucket(input.data(), 3, 10, output.data());
  EXPECT_EQ(output[0], 5);
  EXPECT_EQ(output[1], 7);
  EXPECT_EQ(output[2], int64_t(lmc_fingerprint64("US", 2) % 10));
}

TEST(VocabLookup, InVocabularyOutOfVocabularyAndDefault) {
  std::vector<int64_t> input{22, 11, 44, 45}, output(4);
  vocabLookup(input.data(), 4, VocabularyIndex({11, 22, 33}, 2, std::nullopt),
              output.data());
  // 44 % 2 == 0 and 45 % 2 == 1 select the two out-of-vocabulary buckets.
  EXPECT_EQ(output, (std::vector<int64_t>{1, 0, 3, 4}));

  vocabLookup(input.data(), 4, VocabularyIndex({11, 22, 33}, 0, std::nullopt),
              output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{1, 0, -1, -1}));
  vocabLookup(input.data(), 4, VocabularyIndex({11, 22, 33}, 0, 0),
              output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{1, 0, 0, 0}));
}

TEST(Identity, OutOfRangeBecomesDefaultOrMissing) {
  std::vector<int64_t> input{0, 3, 4, -1}, output(4);
  identity(input.data(), 4, 4, std::nullopt, output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{0, 3, -1, -1}));
  identity(input.data(), 4, 4, 0, output.data());
  EXPECT_EQ(output, (std::vector<int64_t>{0, 3, 0, 0}));
}

TEST(Cross, CombinationsInRowMajorOrder) {
  int64_t a0 = int64_t(lmc_fingerprint64("a0", 2));
  int64_t a1 = int64_t(lmc_fingerprint64("a1", 2));
  int64_t b0 = 7, b1 = 8; // integer features cross by value
  std::vector<int64_t> a{a0, a1}, b{b0, b1};
  std::vector<int64_t> output(4);
  cross({a.data(), b.data()}, {2, 2}, 1, LMC_DEFAULT_CROSS_HASH_KEY, 1000,
        output.data());
  auto expected = [](int64_t x, int64_t y) {
    uint64_t values[] = {uint64_t(x), uint64_t(y)};
    return int64_t(lmc_cross_bucket(values, 2, LMC_DEFAULT_CROSS_HASH_KEY, 1000));
  };
  EXPECT_EQ(output, (std::vector<int64_t>{expected(a0, b0), expected(a0, b1),
                                          expected(a1, b0), expected(a1, b1)}));
}

class EmbeddingBagTest : public ::testing::Test {
protected:
  // Rows [1, 0], [0, 2], [3, 4].
  std::vector<float> table{1, 0, 0, 2, 3, 4};
  // Example 0: ids 0 and 2; example 1: id 1 and a missing one; example 2: none.
  std::vector<int64_t> ids{0, 2, 1, -1, -1, 9};
  std::vector<float> output = std::vector<float>(6);

  std::vector<float> run(Combiner combiner, const float *weights = nullptr,
                         std::optional<float> maxNorm = std::nullopt) {
    embeddingBag<float>(table.data(), 3, 2, ids.data(), weights, 3, 2,
                        combiner, maxNorm, output.data());
    return output;
  }
};

TEST_F(EmbeddingBagTest, Combiners) {
  EXPECT_EQ(run(Combiner::Sum), (std::vector<float>{4, 4, 0, 2, 0, 0}));
  EXPECT_EQ(run(Combiner::Mean), (std::vector<float>{2, 2, 0, 2, 0, 0}));
  std::vector<float> sqrtn = run(Combiner::SqrtN);
  EXPECT_FLOAT_EQ(sqrtn[0], 4 / std::sqrt(2.0f));
  EXPECT_FLOAT_EQ(sqrtn[3], 2);
}

TEST_F(EmbeddingBagTest, WeightsAndMaxNorm) {
  std::vector<float> weights{1, 2, 3, 1, 1, 1};
  std::vector<float> sqrtn = run(Combiner::SqrtN, weights.data());
  // ([1, 0] + 2 [3, 4]) / sqrt(1 + 4); example 1: 3 [0, 2] / sqrt(9).
  EXPECT_FLOAT_EQ(sqrtn[0], 7 / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(sqrtn[1], 8 / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(sqrtn[3], 2);
  std::vector<float> clipped = run(Combiner::Sum, nullptr, 1.0f);
  // Row [3, 4] has norm 5 and becomes [0.6, 0.8]; [0, 2] becomes [0, 1].
  EXPECT_FLOAT_EQ(clipped[0], 1.6f);
  EXPECT_FLOAT_EQ(clipped[1], 0.8f);
  EXPECT_FLOAT_EQ(clipped[3], 1.0f);
}

TEST(Indicator, CountsOrSumsWeights) {
  std::vector<int64_t> ids{1, 1, 3, -1, 0, 5};
  std::vector<float> output(8), weights{0.5f, 0.25f, 1, 1, 2, 1};
  indicator<float>(ids.data(), nullptr, 2, 3, 4, output.data());
  EXPECT_EQ(output, (std::vector<float>{0, 2, 0, 1, 1, 0, 0, 0}));
  indicator(ids.data(), weights.data(), 2, 3, 4, output.data());
  EXPECT_EQ(output, (std::vector<float>{0, 0.75f, 0, 1, 2, 0, 0, 0}));
}

} // namespace
} // namespace lmc::cpu
