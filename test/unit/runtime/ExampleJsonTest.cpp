// ExampleJsonTest.cpp - one JSON object per example, read from the parser's
// events: the kinds a feature takes, and which message a bad line gets.

#include "io/ExampleJson.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace lmc::rt {
namespace {

Example parsed(const std::string &text) {
  Example example;
  ::lmc::rt::Status error;
  EXPECT_TRUE(parseExample(text, "line 1", example, error)) << error;
  return example;
}

std::string failure(const std::string &text) {
  Example example;
  ::lmc::rt::Status error;
  EXPECT_FALSE(parseExample(text, "line 1", example, error)) << text;
  return error.message();
}

TEST(ExampleJson, FeaturesTakeTheKindOfTheirValues) {
  Example example = parsed(R"({"s": "US", "i": 3, "r": 2.5, "list": ["a", "b"],
                              "ints": [1, -2], "empty": [], "missing": null})");
  EXPECT_EQ(example.origin, "line 1");
  ASSERT_EQ(example.features.size(), 7u);
  EXPECT_EQ(example.features["s"].kind, FeatureValue::Kind::Strings);
  EXPECT_EQ(example.features["s"].strings, std::vector<std::string>{"US"});
  EXPECT_EQ(example.features["i"].kind, FeatureValue::Kind::Integers);
  EXPECT_EQ(example.features["i"].integers, std::vector<int64_t>{3});
  EXPECT_EQ(example.features["r"].reals, std::vector<double>{2.5});
  EXPECT_EQ(example.features["list"].strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(example.features["ints"].integers, (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(example.features["empty"].size(), 0u);
  // null is a missing number: NaN, which a numeric column's default replaces.
  ASSERT_EQ(example.features["missing"].reals.size(), 1u);
  EXPECT_TRUE(std::isnan(example.features["missing"].reals[0]));
}

TEST(ExampleJson, IntegersMixedWithRealsBecomeReals) {
  Example example = parsed(R"({"a": [1, 2.5, 3], "b": [0.5, 4], "c": [1, null]})");
  EXPECT_EQ(example.features["a"].kind, FeatureValue::Kind::Reals);
  EXPECT_EQ(example.features["a"].reals, (std::vector<double>{1, 2.5, 3}));
  EXPECT_TRUE(example.features["a"].integers.empty());
  EXPECT_EQ(example.features["b"].reals, (std::vector<double>{0.5, 4}));
  EXPECT_EQ(example.features["c"].reals.size(), 2u);
  // The largest int64 stays exact.
  EXPECT_EQ(parsed(R"({"x": 9223372036854775807})").features["x"].integers[0], INT64_MAX);
}

TEST(ExampleJson, ARepeatedKeyKeepsItsLastValue) {
  Example example = parsed(R"({"a": [1, 2], "a": "z"})");
  EXPECT_EQ(example.features["a"].kind, FeatureValue::Kind::Strings);
  EXPECT_EQ(example.features["a"].strings, std::vector<std::string>{"z"});
}

TEST(ExampleJson, BadFeaturesNameTheFeature) {
  const std::string message =
      "line 1: feature '%' must be a string, a number or a flat array of one kind";
  auto expected = [&](const char *name) {
    std::string text = message;
    return text.replace(text.find('%'), 1, name);
  };
  EXPECT_EQ(failure(R"({"ok": 1, "a": [1, "b"]})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": ["b", 1]})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": [[1]]})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": {"b": 1}})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": [{"b": 1}]})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": true})"), expected("a"));
  EXPECT_EQ(failure(R"({"a": ["x", null]})"), expected("a"));
  // Beyond int64.
  EXPECT_EQ(failure(R"({"a": 9223372036854775808})"), expected("a"));
  // The first bad feature is named.
  EXPECT_EQ(failure(R"({"a": [[1]], "b": true})"), expected("a"));
}

TEST(ExampleJson, TextThatIsNoObjectOrNoJsonSaysSo) {
  EXPECT_EQ(failure(R"([1, 2])"), "line 1: an example must be a JSON object of features");
  EXPECT_EQ(failure(R"("US")"), "line 1: an example must be a JSON object of features");
  EXPECT_EQ(failure("true"), "line 1: an example must be a JSON object of features");
  // Broken JSON is reported as such, whatever came before the break.
  EXPECT_EQ(failure(R"([1, 2)"), "line 1: not valid JSON");
  EXPECT_EQ(failure(R"({"a": [[1]], )"), "line 1: not valid JSON");
  EXPECT_EQ(failure(R"({"a": 1} {"b": 2})"), "line 1: not valid JSON");
  EXPECT_EQ(failure(""), "line 1: not valid JSON");
}

TEST(ExampleJson, DeepNestingIsAnErrorNotARecursion) {
  std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(failure(deep),
            "line 1: feature 'a' must be a string, a number or a flat array of one kind");
}

TEST(ExampleJson, StreamsSkipBlankLinesAndNameLines) {
  std::istringstream in("{\"a\": 1}\n\n  \n{\"a\": 2}\n{\"a\": \n");
  ExampleStream stream;
  stream.attach(in, "in.jsonl");
  std::vector<Example> examples;
  ::lmc::rt::Status error;
  ASSERT_TRUE(stream.read(2, examples, error)) << error;
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].origin, "in.jsonl:4");
  EXPECT_FALSE(stream.read(2, examples, error));
  EXPECT_EQ(error.message(), "in.jsonl:5: not valid JSON");
}

} // namespace
} // namespace lmc::rt
