// CApiTest.cpp - the C API (lmc/lmc.h): ownership, errors as statuses,
// typed and JSON examples, and runs from several threads at once.

#include "BackendTestSupport.h"

#include "lmc/lmc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

namespace {

class CApi : public ::testing::Test {
protected:
  void SetUp() override {
    std::string bytes = ::lmc::testing::compileExample("bst_ranker.yaml", {});
    ASSERT_FALSE(bytes.empty());
    path = ::testing::TempDir() + "/capi-bst.lmcpkg";
    std::ofstream(path, std::ios::binary) << bytes;
    lmc_status_t status = lmc_model_load(path.c_str(), &model);
    ASSERT_EQ(status, nullptr) << lmc_status_message(status);
    ASSERT_EQ(lmc_model_init_weights(model, 3), nullptr);
  }
  void TearDown() override {
    lmc_model_release(model);
    std::remove(path.c_str());
  }

  /// Two examples: one as JSON, one through the typed setters.
  lmc_examples_t *examples() {
    lmc_examples_t *list = nullptr;
    EXPECT_EQ(lmc_examples_create(&list), nullptr);
    EXPECT_EQ(lmc_examples_add_json(
                  list, R"({"hour_of_day": 13, "item_brand": "acme", "user_country": "US",
                  "item_category": "shoes", "item_price": 59.0, "user_age": 31,
                  "user_tags": ["a", "b", "c", "d", "e"], "user_tag_weights": [1, 0.5, 0.25, 1, 1],
                  "click_history": ["i1", "i2", "i3"]})"),
              nullptr);
    EXPECT_EQ(lmc_examples_add(list), nullptr);
    const int64_t hour = 2;
    const float price = 12.5f, age = 58, weights[5] = {1, 1, 1, 1, 1};
    const char *brand = "zeta", *country = "DE", *category = "books";
    const char *tags[5] = {"x", "y", "z", "w", "v"};
    const char *history[2] = {"i9", "i2"};
    EXPECT_EQ(lmc_examples_set_ints(list, "hour_of_day", &hour, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_strings(list, "item_brand", &brand, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_strings(list, "user_country", &country, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_strings(list, "item_category", &category, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_floats(list, "item_price", &price, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_floats(list, "user_age", &age, 1), nullptr);
    EXPECT_EQ(lmc_examples_set_strings(list, "user_tags", tags, 5), nullptr);
    EXPECT_EQ(lmc_examples_set_floats(list, "user_tag_weights", weights, 5), nullptr);
    EXPECT_EQ(lmc_examples_set_strings(list, "click_history", history, 2), nullptr);
    return list;
  }

  std::string path;
  lmc_model_t *model = nullptr;
};

TEST_F(CApi, RunsExamplesAndReturnsOneOutputEach) {
  ASSERT_EQ(lmc_model_output_count(model), 1u);
  EXPECT_STREQ(lmc_model_output_name(model, 0), "ctr_logit");
  EXPECT_EQ(lmc_model_output_name(model, 1), nullptr);
  lmc_examples_t *list = examples();
  EXPECT_EQ(lmc_examples_count(list), 2u);
  lmc_results_t *results = nullptr;
  lmc_status_t status = lmc_model_run(model, list, nullptr, &results);
  ASSERT_EQ(status, nullptr) << lmc_status_message(status);
  ASSERT_EQ(lmc_results_example_count(results), 2u);
  EXPECT_EQ(lmc_results_batch_count(results), 1u);
  EXPECT_EQ(lmc_results_token_count(results), 5);
  const float *values = nullptr;
  size_t count = 0;
  ASSERT_EQ(lmc_results_get(results, 1, 0, &values, &count), nullptr);
  EXPECT_EQ(count, 1u);
  EXPECT_TRUE(std::isfinite(values[0]));
  lmc_status_t missing = lmc_results_get(results, 2, 0, &values, &count);
  EXPECT_EQ(lmc_status_code(missing), LMC_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(lmc_status_message(missing), "no output 0 of example 2 (2 examples)");
  lmc_status_release(missing);
  lmc_results_release(results);
  lmc_examples_release(list);
}

TEST_F(CApi, ConcurrentRunsAgree) {
  lmc_examples_t *list = examples();
  float expected[2];
  lmc_results_t *reference = nullptr;
  ASSERT_EQ(lmc_model_run(model, list, nullptr, &reference), nullptr);
  for (size_t e = 0; e < 2; ++e) {
    const float *values;
    size_t count;
    ASSERT_EQ(lmc_results_get(reference, e, 0, &values, &count), nullptr);
    expected[e] = values[0];
  }
  lmc_results_release(reference);
  std::vector<std::thread> threads;
  std::vector<int> agreed(8, 0);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 10; ++repeat) {
        lmc_results_t *results = nullptr;
        if (lmc_model_run(model, list, nullptr, &results))
          return;
        bool same = true;
        for (size_t e = 0; e < 2; ++e) {
          const float *values;
          size_t count;
          // Equal up to rounding: OpenBLAS may split a GEMM differently when
          // several threads call it at once. A race would be far off.
          same &= !lmc_results_get(results, e, 0, &values, &count) &&
                  std::abs(values[0] - expected[e]) <= 1e-5f * std::abs(expected[e]) + 1e-7f;
        }
        agreed[size_t(t)] += same;
        lmc_results_release(results);
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int count : agreed)
    EXPECT_EQ(count, 10);
  lmc_examples_release(list);
}

TEST_F(CApi, FailuresAreStatusesWithMessages) {
  lmc_model_t *other = nullptr;
  // No such file is NOT_FOUND; a directory, or a file that is no package,
  // is INVALID_ARGUMENT, and neither ends the host program.
  lmc_status_t status = lmc_model_load("/nonexistent/model.lmcpkg", &other);
  EXPECT_EQ(other, nullptr);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_NOT_FOUND);
  EXPECT_STREQ(lmc_status_message(status),
               "cannot read '/nonexistent/model.lmcpkg': No such file or directory");
  lmc_status_release(status);
  status = lmc_model_load("/tmp", &other);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(lmc_status_message(status), "cannot read '/tmp': it is a directory");
  lmc_status_release(status);

  status = lmc_model_load_weights(model, "/nonexistent/w.safetensors");
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_NOT_FOUND);
  EXPECT_NE(std::string(lmc_status_message(status)).find("cannot read"), std::string::npos);
  lmc_status_release(status);
  status = lmc_model_load_weights(model, "/tmp");
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(lmc_status_message(status), "cannot read '/tmp': it is a directory");
  lmc_status_release(status);

  lmc_examples_t *list = nullptr;
  ASSERT_EQ(lmc_examples_create(&list), nullptr);
  status = lmc_examples_add_json(list, "{\"a\": [1, \"b\"]}");
  EXPECT_STREQ(lmc_status_message(status),
               "example 0: feature 'a' must be a string, a number or a flat array of one kind");
  lmc_status_release(status);
  status = lmc_examples_set_ints(list, "a", nullptr, 0);
  EXPECT_STREQ(lmc_status_message(status), "call lmc_examples_add before setting features");
  lmc_status_release(status);
  ASSERT_EQ(lmc_examples_add_json(list, "{\"hour_of_day\": 1}"), nullptr);
  lmc_results_t *results = nullptr;
  status = lmc_model_run(model, list, nullptr, &results);
  EXPECT_EQ(results, nullptr);
  // A missing sequence (click_history) is empty, a missing categorical
  // feature has no ids, a missing numeric feature without a default is an
  // error.
  EXPECT_STREQ(lmc_status_message(status),
               "example 0: missing feature 'item_price' (its column has no default_value)");
  lmc_status_release(status);
  lmc_run_options_t options = {-1, LMC_OVERLONG_ERROR};
  status = lmc_model_run(model, list, &options, &results);
  EXPECT_STREQ(lmc_status_message(status),
               "lmc_run_options_t.packing_length must not be negative");
  lmc_status_release(status);
  // An enum holding no enumerator (C lets a caller store any int).
  options = {0, static_cast<lmc_overlong_t>(7)};
  status = lmc_model_run(model, list, &options, &results);
  EXPECT_STREQ(lmc_status_message(status),
               "lmc_run_options_t.overlong is 7; use LMC_OVERLONG_ERROR, LMC_OVERLONG_TRUNCATE "
               "or LMC_OVERLONG_ALONE");
  lmc_status_release(status);
  lmc_examples_release(list);
}

TEST_F(CApi, MemoryLimitRefusesBeforeAllocating) {
  lmc_status_t status = lmc_model_set_memory_limit(model, 0);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INVALID_ARGUMENT);
  EXPECT_STREQ(lmc_status_message(status), "the memory limit must be positive, not 0");
  lmc_status_release(status);

  // 1 KiB is less than the model's parameters: every call that would
  // allocate them, or an arena, says so with the sizes.
  ASSERT_EQ(lmc_model_set_memory_limit(model, 1024), nullptr);
  status = lmc_model_init_weights(model, 1);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_OUT_OF_MEMORY);
  std::string message = lmc_status_message(status);
  EXPECT_NE(message.find("more than its memory limit of 1.0 KiB, for generating its weights"),
            std::string::npos)
      << message;
  lmc_status_release(status);
  status = lmc_model_load_weights(model, "/nonexistent/w.safetensors");
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_OUT_OF_MEMORY);
  lmc_status_release(status);
  lmc_examples_t *list = examples();
  lmc_results_t *results = nullptr;
  status = lmc_model_run(model, list, nullptr, &results);
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_OUT_OF_MEMORY);
  EXPECT_EQ(results, nullptr);
  lmc_status_release(status);

  // A limit the model fits under lets it run again.
  ASSERT_EQ(lmc_model_set_memory_limit(model, int64_t(1) << 30), nullptr);
  ASSERT_EQ(lmc_model_run(model, list, nullptr, &results), nullptr);
  EXPECT_EQ(lmc_results_example_count(results), 2u);
  lmc_results_release(results);
  lmc_examples_release(list);
}

TEST_F(CApi, ThreadCountIsCheckedAndDoesNotChangeResults) {
  for (int bad : {-1, 1025}) {
    lmc_status_t status = lmc_model_set_threads(model, bad);
    EXPECT_EQ(lmc_status_code(status), LMC_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(std::string(lmc_status_message(status)),
              "threads must be 0 (the default) to 1024, not " + std::to_string(bad));
    lmc_status_release(status);
  }
  lmc_examples_t *list = examples();
  std::vector<float> logits[2];
  for (int threads : {1, 2}) {
    ASSERT_EQ(lmc_model_set_threads(model, threads), nullptr);
    lmc_results_t *results = nullptr;
    ASSERT_EQ(lmc_model_run(model, list, nullptr, &results), nullptr);
    for (size_t example = 0; example < 2; ++example) {
      const float *values = nullptr;
      size_t count = 0;
      ASSERT_EQ(lmc_results_get(results, example, 0, &values, &count), nullptr);
      logits[threads - 1].insert(logits[threads - 1].end(), values, values + count);
    }
    lmc_results_release(results);
  }
  lmc_examples_release(list);
  // Threads split the same sums differently: equal to float rounding.
  ASSERT_EQ(logits[0].size(), logits[1].size());
  for (size_t i = 0; i < logits[0].size(); ++i)
    EXPECT_NEAR(logits[0][i], logits[1][i], 1e-5f * (1 + std::fabs(logits[0][i])));
}

} // namespace
