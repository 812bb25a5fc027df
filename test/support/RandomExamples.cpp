// RandomExamples.cpp - random raw examples for any plan.

#include "support/RandomExamples.h"

#include <random>
#include <set>

namespace lmc::testing {

std::vector<rt::Example> randomExamples(const rt::Plan &plan, size_t count, int64_t maxLength,
                                        uint64_t seed) {
  static const char *const words[] = {"US", "DE", "JP", "books", "shoes", "acme", "zeta",
                                      "i1", "i2", "i3", "i4", "i5", "x", "y", ""};
  std::mt19937_64 engine(seed);
  std::set<std::string> sequences;
  for (const rt::Input &input : plan.inputs)
    if (input.ingest == rt::Ingest::Lengths)
      sequences.insert(input.feature);
  std::vector<rt::Example> examples(count);
  for (size_t e = 0; e < count; ++e) {
    rt::Example &example = examples[e];
    example.origin = "example " + std::to_string(e);
    int64_t length = 1 + int64_t(engine() % uint64_t(maxLength));
    for (const rt::Input &input : plan.inputs) {
      if (input.ingest == rt::Ingest::Lengths || example.features.count(input.feature))
        continue;
      const rt::TensorType &type = plan.values[size_t(input.value)].type;
      int64_t width = sequences.count(input.feature) ? length : 1;
      for (size_t d = 1; !sequences.count(input.feature) && d < type.shape.size(); ++d)
        width *= type.shape[d];
      // A damaged package (fuzzing) may declare any width; the packer
      // reports the mismatch.
      if (width < 0 || width > 4096)
        width = 1;
      rt::FeatureValue value;
      for (int64_t i = 0; i < width; ++i) {
        if (input.ingest == rt::Ingest::Fingerprint) {
          value.kind = rt::FeatureValue::Kind::Strings;
          value.strings.push_back(words[engine() % std::size(words)]);
        } else if (input.ingest == rt::Ingest::DecimalFingerprint ||
                   !rt::isFloat(type.dtype)) {
          value.kind = rt::FeatureValue::Kind::Integers;
          value.integers.push_back(int64_t(engine() % 30));
        } else {
          value.kind = rt::FeatureValue::Kind::Reals;
          value.reals.push_back(double(engine() % 6000) / 100.0);
        }
      }
      example.features[input.feature] = std::move(value);
    }
  }
  return examples;
}

} // namespace lmc::testing
