// ExampleJson.cpp - parsing examples with nlohmann::json.

#include "io/ExampleJson.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <sys/stat.h>

namespace lmc::rt {
namespace {

using Json = nlohmann::json;

/// Builds an Example straight from the parser's events: no JSON tree, so a
/// line of n numbers costs about n values, not the dozen times more a
/// document object would (a 110 MB line took 1.4 GB as a tree).
///
/// Parsing goes on past a value lmc cannot use, so that text which is not
/// JSON at all is reported as such, as a whole-document parse would.
class ExampleBuilder : public nlohmann::json_sax<Json> {
public:
  explicit ExampleBuilder(Example &example) : example(example) {}

  bool null() override { return scalar(std::numeric_limits<double>::quiet_NaN()); }
  bool boolean(bool) override { return wrongFeature(); }
  bool number_integer(number_integer_t value) override { return integer(value); }
  bool number_unsigned(number_unsigned_t value) override {
    // Integers beyond int64 do not fit a feature.
    return value > uint64_t(INT64_MAX) ? wrongFeature() : integer(int64_t(value));
  }
  bool number_float(number_float_t value, const string_t &) override { return scalar(value); }
  bool string(string_t &value) override {
    if (!feature())
      return true;
    if (!first && current->kind != FeatureValue::Kind::Strings)
      return wrongFeature();
    current->kind = FeatureValue::Kind::Strings;
    current->strings.push_back(std::move(value));
    first = false;
    return true;
  }
  bool binary(binary_t &) override { return wrongFeature(); }

  bool start_object(std::size_t) override {
    if (depth++ == 0)
      return true;
    return wrongFeature();
  }
  bool key(string_t &name) override {
    if (depth == 1) {
      // A repeated key keeps its last value, as a JSON object would.
      featureName = name;
      current = &(example.features[name] = FeatureValue());
      first = true;
    }
    return true;
  }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth;
    if (depth == 1)
      notObject = true;
    else if (depth > 2)
      return wrongFeature();
    return true;
  }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override {
    invalid = true;
    return false;
  }

  bool invalid = false, notObject = false;
  /// The first feature that is not a string, a number or a flat array of
  /// one kind; empty when every one is.
  std::string badFeature;

private:
  /// True when the value being read belongs to a feature (depth 1 or 2);
  /// a scalar at depth 0 is a document that is no object.
  bool feature() {
    if (depth == 0)
      notObject = true;
    return depth > 0 && current && badFeature.empty();
  }
  bool wrongFeature() {
    if (depth == 0)
      notObject = true;
    else if (badFeature.empty())
      badFeature = featureName;
    return true;
  }
  bool integer(int64_t value) {
    if (!feature())
      return true;
    if (first || current->kind == FeatureValue::Kind::Integers) {
      current->kind = FeatureValue::Kind::Integers;
      current->integers.push_back(value);
      first = false;
      return true;
    }
    return scalar(double(value));
  }
  /// Appends a real; integers collected so far turn to reals.
  bool scalar(double value) {
    if (!feature())
      return true;
    if (!first && current->kind == FeatureValue::Kind::Strings)
      return wrongFeature();
    if (current->kind == FeatureValue::Kind::Integers) {
      current->reals.assign(current->integers.begin(), current->integers.end());
      current->integers.clear();
    }
    current->kind = FeatureValue::Kind::Reals;
    current->reals.push_back(value);
    first = false;
    return true;
  }

  Example &example;
  int depth = 0;
  std::string featureName;
  FeatureValue *current = nullptr;
  bool first = true;
};

} // namespace

bool parseExample(const std::string &text, const std::string &origin, Example &example,
                  rt::Status &error) {
  example = Example();
  example.origin = origin;
  ExampleBuilder builder(example);
  Json::sax_parse(text, &builder);
  if (builder.invalid)
    return error.fail(origin + ": not valid JSON");
  if (builder.notObject)
    return error.fail(origin + ": an example must be a JSON object of features");
  if (!builder.badFeature.empty())
    return error.fail(origin + ": feature '" + builder.badFeature +
                      "' must be a string, a number or a flat array of one kind");
  return true;
}

bool readExamplesJsonl(std::istream &in, const std::string &name, std::vector<Example> &examples,
                       rt::Status &error) {
  ExampleStream stream;
  stream.attach(in, name);
  return stream.read(std::numeric_limits<size_t>::max(), examples, error);
}

bool readExamplesFile(const std::string &path, std::vector<Example> &examples, rt::Status &error) {
  ExampleStream stream;
  return stream.open(path, error) &&
         stream.read(std::numeric_limits<size_t>::max(), examples, error);
}

void ExampleStream::attach(std::istream &stream, const std::string &streamName) {
  owned.reset();
  in = &stream;
  name = streamName;
}

bool ExampleStream::open(const std::string &path, rt::Status &error) {
  if (path == "-") {
    attach(std::cin, "<stdin>");
    return true;
  }
  struct stat status = {};
  if (::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode))
    return error.fail("cannot read '" + path + "': it is a directory");
  auto file = std::make_unique<std::ifstream>(path);
  if (!*file) {
    int code = errno;
    return error.fail(code == ENOENT ? LMC_STATUS_NOT_FOUND : LMC_STATUS_INVALID_ARGUMENT,
                      "cannot read '" + path + "': " + std::strerror(code));
  }
  bytes = S_ISREG(status.st_mode) ? uint64_t(status.st_size) : 0;
  owned = std::move(file);
  in = owned.get();
  name = path;
  return true;
}

bool ExampleStream::read(size_t count, std::vector<Example> &examples, rt::Status &error) {
  std::string text;
  for (size_t added = 0; added < count && in && std::getline(*in, text);) {
    ++line;
    consumed += text.size() + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    Example example;
    if (!parseExample(text, name + ":" + std::to_string(line), example, error))
      return false;
    examples.push_back(std::move(example));
    ++added;
  }
  return true;
}

} // namespace lmc::rt
