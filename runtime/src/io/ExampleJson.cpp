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
  ExampleStream stream;
  stream.attach(in, name);
  return stream.read(std::numeric_limits<size_t>::max(), examples, error);
}

bool readExamplesFile(const std::string &path, std::vector<Example> &examples,
                      std::string &error) {
  ExampleStream stream;
  return stream.open(path, error) &&
         stream.read(std::numeric_limits<size_t>::max(), examples, error);
}

void ExampleStream::attach(std::istream &stream, const std::string &streamName) {
  owned.reset();
  in = &stream;
  name = streamName;
}

bool ExampleStream::open(const std::string &path, std::string &error) {
  if (path == "-") {
    attach(std::cin, "<stdin>");
    return true;
  }
  struct stat status = {};
  if (::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode))
    return (error = "cannot read '" + path + "': it is a directory"), false;
  auto file = std::make_unique<std::ifstream>(path);
  if (!*file)
    return (error = "cannot read '" + path + "': " + std::strerror(errno)), false;
  bytes = S_ISREG(status.st_mode) ? uint64_t(status.st_size) : 0;
  owned = std::move(file);
  in = owned.get();
  name = path;
  return true;
}

bool ExampleStream::read(size_t count, std::vector<Example> &examples, std::string &error) {
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
