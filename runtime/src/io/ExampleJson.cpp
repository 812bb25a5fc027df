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

/// Appends one scalar to `value`; integers turn to reals when mixed with
/// reals. False when the scalar does not fit the kind collected so far.
bool append(const Json &scalar, FeatureValue &value, bool first) {
  using Kind = FeatureValue::Kind;
  if (scalar.is_string()) {
    if (!first && value.kind != Kind::Strings)
      return false;
    value.kind = Kind::Strings;
    value.strings.push_back(scalar.get<std::string>());
    return true;
  }
  if (scalar.is_null()) // a missing number: NaN, which numeric columns default
    return append(std::numeric_limits<double>::quiet_NaN(), value, first);
  if (!scalar.is_number() || (!first && value.kind == Kind::Strings))
    return false;
  if (scalar.is_number_integer() && (first || value.kind == Kind::Integers)) {
    value.kind = Kind::Integers;
    // Integers beyond int64 (unsigned JSON numbers) do not fit a feature.
    if (scalar.is_number_unsigned() && scalar.get<uint64_t>() > uint64_t(INT64_MAX))
      return false;
    value.integers.push_back(scalar.get<int64_t>());
    return true;
  }
  if (value.kind == Kind::Integers) {
    for (int64_t integer : value.integers)
      value.reals.push_back(double(integer));
    value.integers.clear();
  }
  value.kind = Kind::Reals;
  value.reals.push_back(scalar.get<double>());
  return true;
}

} // namespace

bool parseExample(const std::string &text, const std::string &origin, Example &example,
                  std::string &error) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded())
    return (error = origin + ": not valid JSON"), false;
  if (!json.is_object())
    return (error = origin + ": an example must be a JSON object of features"), false;
  example = Example();
  example.origin = origin;
  for (const auto &[name, entry] : json.items()) {
    FeatureValue value;
    bool ok = true;
    if (entry.is_array()) {
      bool first = true;
      for (const Json &element : entry) {
        ok = ok && append(element, value, first);
        first = false;
      }
    } else {
      ok = append(entry, value, true);
    }
    if (!ok)
      return (error = origin + ": feature '" + name +
                      "' must be a string, a number or a flat array of one kind"),
             false;
    example.features[name] = std::move(value);
  }
  return true;
}

bool readExamplesJsonl(std::istream &in, const std::string &name,
                       std::vector<Example> &examples, std::string &error) {
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    Example example;
    if (!parseExample(line, name + ":" + std::to_string(number), example, error))
      return false;
    examples.push_back(std::move(example));
  }
  return true;
}

bool readExamplesFile(const std::string &path, std::vector<Example> &examples,
                      std::string &error) {
  if (path == "-")
    return readExamplesJsonl(std::cin, "<stdin>", examples, error);
  struct stat status;
  if (::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode))
    return (error = "cannot read '" + path + "': it is a directory"), false;
  std::ifstream in(path);
  if (!in)
    return (error = "cannot read '" + path + "': " + std::strerror(errno)), false;
  return readExamplesJsonl(in, path, examples, error);
}

} // namespace lmc::rt
