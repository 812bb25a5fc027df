// CppApiTest.cpp - the C++ layer (lmc/lmc.hpp): the same run as the C API,
// failures as lmc::Error, handles that move.

#include "BackendTestSupport.h"

#include "lmc/lmc.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace {

TEST(CppApi, RunsAndThrowsOnFailure) {
  std::string path = ::testing::TempDir() + "/cppapi-bst.lmcpkg";
  std::ofstream(path, std::ios::binary) << ::lmc::testing::compileExample("bst_ranker.yaml", {});
  lmc::Model model(path);
  model.initWeights(3);
  EXPECT_EQ(model.outputNames(), std::vector<std::string>{"ctr_logit"});
  lmc::Examples examples;
  examples.addJson(R"({"hour_of_day": 2, "item_brand": "zeta", "user_country": "DE",
      "item_category": "books", "item_price": 12.5, "user_age": 58,
      "user_tags": ["x", "y", "z", "w", "v"], "user_tag_weights": [1, 1, 1, 1, 1],
      "click_history": ["i9", "i2"]})");
  examples.add();
  examples.setInts("hour_of_day", {2});
  examples.setStrings("item_brand", {"zeta"});
  examples.setStrings("user_country", {"DE"});
  examples.setStrings("item_category", {"books"});
  examples.setFloats("item_price", {12.5f});
  examples.setFloats("user_age", {58});
  examples.setStrings("user_tags", {"x", "y", "z", "w", "v"});
  examples.setFloats("user_tag_weights", {1, 1, 1, 1, 1});
  examples.setStrings("click_history", {"i9", "i2"});
  lmc::Results results = model.run(examples);
  ASSERT_EQ(results.size(), 2u);
  // The JSON example and the typed one are the same example.
  EXPECT_EQ(results.get(0, 0), results.get(1, 0));
  lmc::Results moved = std::move(results);
  EXPECT_EQ(moved.get(0, 0).size(), 1u);

  try {
    moved.get(5, 0);
    FAIL() << "no lmc::Error";
  } catch (const lmc::Error &error) {
    EXPECT_EQ(error.code(), LMC_STATUS_INVALID_ARGUMENT);
    EXPECT_STREQ(error.what(), "no output 0 of example 5 (2 examples)");
  }
  EXPECT_THROW(lmc::Model("/nonexistent.lmcpkg"), lmc::Error);
  std::remove(path.c_str());
}

} // namespace
