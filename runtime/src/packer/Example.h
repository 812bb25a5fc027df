// Example.h - one raw example: feature name -> values, as the user gives
// them (strings, integers or reals), before fingerprinting or packing.

#ifndef LMC_RUNTIME_PACKER_EXAMPLE_H
#define LMC_RUNTIME_PACKER_EXAMPLE_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lmc::rt {

struct FeatureValue {
  enum class Kind { Strings, Integers, Reals };
  Kind kind = Kind::Reals;
  std::vector<std::string> strings;
  std::vector<int64_t> integers;
  std::vector<double> reals;

  size_t size() const {
    return kind == Kind::Strings ? strings.size()
           : kind == Kind::Integers ? integers.size() : reals.size();
  }
  const char *kindName() const {
    return kind == Kind::Strings ? "strings" : kind == Kind::Integers ? "integers" : "numbers";
  }
};

struct Example {
  std::map<std::string, FeatureValue> features;
  /// Where the example came from, for messages ("examples.jsonl:7").
  std::string origin;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_PACKER_EXAMPLE_H
