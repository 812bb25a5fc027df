// PackerTest.cpp - first-fit-decreasing packing, batches within the plan's
// budget, the overlong policies, and the tensors handed to the plan.

#include "lmc/fingerprint.h"
#include "packer/Packer.h"
#include "support/PlanInputs.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace {

using namespace lmc::rt;

/// A plan taking a fingerprinted sequence with its lengths and a numeric
/// feature of width 2, with a budget of `batch` examples and `tokens`.
Plan makePlan(int64_t batch, int64_t tokens) {
  using lmc::testing::addInput;
  Plan plan;
  plan.budget = {batch, 8, tokens};
  addInput(plan, "history", Ingest::Fingerprint, DType::I64, {-1, -1});
  addInput(plan, "history", Ingest::Lengths, DType::I32, {-1});
  addInput(plan, "price", Ingest::Value, DType::F32, {-1, 2});
  return plan;
}

Example example(size_t length, float price = 1) {
  Example e;
  e.origin = "example of " + std::to_string(length);
  FeatureValue history;
  history.kind = FeatureValue::Kind::Strings;
  for (size_t i = 0; i < length; ++i)
    history.strings.push_back("item" + std::to_string(i));
  e.features["history"] = history;
  FeatureValue prices;
  prices.reals = {price, price * 2};
  e.features["price"] = prices;
  return e;
}

TEST(Packer, FirstFitDecreasingIntoRows) {
  // Lengths 5, 3, 2, 2, 1 into rows of 5: [5], [3, 2], [2, 1].
  std::vector<Example> examples = {example(2), example(5), example(1), example(3), example(2)};
  std::vector<PackedBatch> batches;
  Status error;
  ASSERT_TRUE(packExamples(makePlan(64, 100), examples, {5, OverlongPolicy::Error}, batches,
                           error))
      << error;
  ASSERT_EQ(batches.size(), 1u);
  const PackedBatch &batch = batches[0];
  EXPECT_EQ(batch.rows, 3);
  EXPECT_EQ(batch.examples, (std::vector<size_t>{1, 3, 0, 4, 2}));
  EXPECT_EQ(batch.lengths, (std::vector<int64_t>{5, 3, 2, 2, 1}));
  EXPECT_EQ(batch.cuSeqlens, (std::vector<int32_t>{0, 5, 8, 10, 12, 13}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 0, 1, 0}));

  // The plan's inputs: padded fingerprints, lengths, prices per example.
  ASSERT_EQ(batch.inputs.size(), 3u);
  EXPECT_EQ(batch.inputs[0].shape, (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(batch.inputs[0].as<int64_t>()[0], int64_t(lmc_fingerprint64("item0", 5)));
  EXPECT_EQ(batch.inputs[0].as<int64_t>()[5 + 2], int64_t(lmc_fingerprint64("item2", 5)));
  EXPECT_EQ(batch.inputs[0].as<int64_t>()[5 + 3], 0); // padding
  EXPECT_EQ(batch.inputs[1].as<int32_t>()[1], 3);
  EXPECT_EQ(batch.inputs[2].shape, (std::vector<int64_t>{5, 2}));
}

TEST(Packer, BatchesStayWithinTheBudget) {
  std::vector<Example> examples;
  for (size_t i = 0; i < 10; ++i)
    examples.push_back(example(1 + i % 4));
  std::vector<PackedBatch> batches;
  Status error;
  // At most 3 examples and 6 tokens per batch.
  ASSERT_TRUE(packExamples(makePlan(3, 6), examples, {4, OverlongPolicy::Error}, batches, error));
  size_t seen = 0;
  for (const PackedBatch &batch : batches) {
    EXPECT_LE(batch.examples.size(), 3u);
    EXPECT_LE(batch.cuSeqlens.back(), 6);
    seen += batch.examples.size();
  }
  EXPECT_EQ(seen, examples.size());
}

TEST(Packer, OverlongSequencesFollowThePolicy) {
  std::vector<Example> examples = {example(2), example(7)};
  std::vector<PackedBatch> batches;
  Status error;
  EXPECT_FALSE(packExamples(makePlan(8, 64), examples, {4, OverlongPolicy::Error}, batches, error));
  EXPECT_EQ(error.message(),
            "example of 7: sequence 'history' has 7 tokens, more than the packing length 4 "
            "(lmc run --overlong=truncate or =alone, or LMC_OVERLONG_TRUNCATE or _ALONE, runs it)");

  ASSERT_TRUE(packExamples(makePlan(8, 64), examples, {4, OverlongPolicy::Truncate}, batches,
                           error));
  EXPECT_EQ(batches[0].lengths, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(batches[0].inputs[1].as<int32_t>()[0], 4);

  ASSERT_TRUE(packExamples(makePlan(8, 64), examples, {4, OverlongPolicy::Alone}, batches, error));
  EXPECT_EQ(batches[0].rows, 2);
  EXPECT_EQ(batches[0].lengths, (std::vector<int64_t>{7, 2}));

  // A row of its own must still fit the batch the package was planned for.
  EXPECT_FALSE(packExamples(makePlan(8, 6), examples, {4, OverlongPolicy::Alone}, batches, error));
  EXPECT_EQ(error.message(),
            "example of 7: sequence 'history' has 7 tokens, more than the 6 a batch of "
            "this package holds (compile with a larger --max-tokens, or truncate it: lmc "
            "run --overlong=truncate)");
}

TEST(Packer, RowsAreExactlyFirstFitDecreasing) {
  // The packer finds each example's row in a tree; a plain scan of the rows
  // must give the same rows, for many lengths and a per-row example limit.
  std::mt19937 engine(5);
  std::vector<Example> examples;
  std::vector<int64_t> lengths;
  for (int e = 0; e < 3000; ++e) {
    lengths.push_back(int64_t(engine() % 9));
    examples.push_back(example(size_t(lengths.back())));
  }
  const int64_t rowLength = 8, perRow = 4;
  std::vector<PackedBatch> batches;
  Status error;
  ASSERT_TRUE(planBatches(makePlan(perRow, 1 << 20), examples, {rowLength, OverlongPolicy::Error},
                          batches, error))
      << error;
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return lengths[a] != lengths[b] ? lengths[a] > lengths[b] : a < b; // stable
  });
  std::vector<std::vector<size_t>> rows;
  std::vector<int64_t> used;
  for (size_t e : order) {
    size_t r = 0;
    while (r < rows.size() && (used[r] + lengths[e] > rowLength || int64_t(rows[r].size()) >= perRow))
      ++r;
    if (r == rows.size()) {
      rows.emplace_back();
      used.push_back(0);
    }
    rows[r].push_back(e);
    used[r] += lengths[e];
  }
  std::vector<size_t> expected, got;
  for (const std::vector<size_t> &row : rows)
    expected.insert(expected.end(), row.begin(), row.end());
  size_t rowCount = 0;
  for (const PackedBatch &batch : batches) {
    got.insert(got.end(), batch.examples.begin(), batch.examples.end());
    rowCount += size_t(batch.rows);
  }
  EXPECT_EQ(rowCount, rows.size());
  EXPECT_EQ(got, expected);
}

TEST(Packer, BadFeaturesNameTheExample) {
  std::vector<PackedBatch> batches;
  Status error;
  Example missing = example(2);
  missing.features.erase("price");
  EXPECT_FALSE(packExamples(makePlan(8, 64), {missing}, {}, batches, error));
  EXPECT_EQ(error.message(),
            "example of 2: missing feature 'price' (its column has no default_value)");

  Example narrow = example(2);
  narrow.features["price"].reals = {1};
  EXPECT_FALSE(packExamples(makePlan(8, 64), {narrow}, {}, batches, error));
  EXPECT_EQ(error.message(), "example of 2: feature 'price' has 1 values; the model takes 2");

  Example numbers = example(2);
  numbers.features["history"] = numbers.features["price"];
  EXPECT_FALSE(packExamples(makePlan(8, 64), {numbers}, {}, batches, error));
  EXPECT_EQ(error.message(),
            "example of 2: feature 'history' takes strings (they are fingerprinted), "
            "not numbers");
}

} // namespace
