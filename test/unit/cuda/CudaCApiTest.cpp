// CudaCApiTest.cpp - lmc/lmc_cuda.h: moving a model onto the GPU from C.
// Without a GPU (CI) the call fails with LMC_STATUS_UNAVAILABLE, says why,
// and the model keeps running on the CPU; with one, the model runs there.

#include "CudaTestSupport.h"

#include "lmc/lmc_cuda.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

class CudaCApi : public ::testing::Test {
protected:
  void load(const std::string &bytes) {
    ASSERT_FALSE(bytes.empty());
    path = ::testing::TempDir() + "/cuda-capi-bst.lmcpkg";
    std::ofstream(path, std::ios::binary) << bytes;
    lmc_status_t status = lmc_model_load(path.c_str(), &model);
    ASSERT_EQ(status, nullptr) << lmc_status_message(status);
    ASSERT_EQ(lmc_model_init_weights(model, 3), nullptr);
  }
  void TearDown() override {
    lmc_model_release(model);
    std::remove(path.c_str());
  }
  /// Runs one example; true when it produced one output.
  bool runsOne() {
    lmc_examples_t *examples = nullptr;
    lmc_results_t *results = nullptr;
    EXPECT_EQ(lmc_examples_create(&examples), nullptr);
    EXPECT_EQ(lmc_examples_add_json(
                  examples, R"({"hour_of_day": 13, "item_brand": "acme", "user_country": "US",
                  "item_category": "shoes", "item_price": 59.0, "user_age": 31,
                  "user_tags": ["a", "b", "c", "d", "e"], "user_tag_weights": [1, 1, 1, 1, 1],
                  "click_history": ["i1", "i2", "i3"]})"),
              nullptr);
    lmc_status_t status = lmc_model_run(model, examples, nullptr, &results);
    bool ok = status == nullptr;
    EXPECT_EQ(status, nullptr) << lmc_status_message(status);
    lmc_status_release(status);
    lmc_results_release(results);
    lmc_examples_release(examples);
    return ok;
  }
  std::string path;
  lmc_model_t *model = nullptr;
};

TEST_F(CudaCApi, UsesTheGpuOrSaysWhyNot) {
  load(lmc::testing::compilePackageWithCode("bst_ranker.yaml", {}));
  EXPECT_STREQ(lmc_model_device(model), "the CPU");
  lmc_status_t status = lmc_model_use_cuda(model);
  if (status) {
    EXPECT_EQ(lmc_status_code(status), LMC_STATUS_UNAVAILABLE);
    std::string message = lmc_status_message(status);
    EXPECT_TRUE(message.find("no CUDA driver") != std::string::npos ||
                message.find("no GPU") != std::string::npos ||
                message.find("cuInit") != std::string::npos)
        << message;
    lmc_status_release(status);
    EXPECT_STREQ(lmc_model_device(model), "the CPU");
  } else {
    EXPECT_EQ(std::string(lmc_model_device(model)).rfind("the GPU (", 0), 0u);
  }
  EXPECT_TRUE(runsOne());
}

TEST_F(CudaCApi, RefusesACpuPackage) {
  load(lmc::testing::compilePackage("bst_ranker.yaml", {}));
  lmc_status_t status = lmc_model_use_cuda(model);
  ASSERT_NE(status, nullptr) << "a package without CUDA code cannot run on a GPU";
  EXPECT_EQ(lmc_status_code(status), LMC_STATUS_UNAVAILABLE);
  lmc_status_release(status);
  lmc_status_t null = lmc_model_use_cuda(nullptr);
  EXPECT_EQ(lmc_status_code(null), LMC_STATUS_INVALID_ARGUMENT);
  lmc_status_release(null);
  EXPECT_TRUE(runsOne());
}

} // namespace
