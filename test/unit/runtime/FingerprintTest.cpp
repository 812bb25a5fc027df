// Tests lmc's host-side fingerprinting against values TensorFlow computed
// (test/fixtures/tensorflow_hashes.tsv, made by make_tensorflow_hashes.py):
// every hash bucket and every cross must match bit for bit.

#include "lmc/fingerprint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator))
    parts.push_back(part);
  if (!text.empty() && text.back() == separator)
    parts.emplace_back();
  return parts;
}

// Decodes a fixture value ("s:<hex of UTF-8>" or "i:<decimal>") and returns
// the fingerprint lmc's host code gives it.
uint64_t fingerprintOf(const std::string &encoded) {
  if (encoded.rfind("i:", 0) == 0)
    return lmc_fingerprint64_of_int(std::stoll(encoded.substr(2)));
  std::string bytes;
  for (size_t i = 2; i + 1 < encoded.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(encoded.substr(i, 2), nullptr, 16)));
  return lmc_fingerprint64(bytes.data(), bytes.size());
}

// What one value contributes to a cross: a string its Fingerprint64, an
// integer its own value.
uint64_t crossFeatureOf(const std::string &encoded) {
  if (encoded.rfind("i:", 0) == 0)
    return static_cast<uint64_t>(std::stoll(encoded.substr(2)));
  return fingerprintOf(encoded);
}

// Every combination of one value per input, the last input varying fastest,
// each crossed into a bucket.
std::vector<uint64_t> crossAll(const std::vector<std::vector<uint64_t>> &inputs,
                               uint64_t hashKey, uint64_t buckets) {
  std::vector<uint64_t> results;
  std::vector<size_t> index(inputs.size(), 0);
  std::vector<uint64_t> combination(inputs.size());
  while (true) {
    for (size_t i = 0; i < inputs.size(); ++i)
      combination[i] = inputs[i][index[i]];
    results.push_back(lmc_cross_bucket(combination.data(), combination.size(),
                                       hashKey, buckets));
    size_t digit = inputs.size();
    while (digit > 0 && ++index[digit - 1] == inputs[digit - 1].size())
      index[--digit] = 0;
    if (digit == 0)
      return results;
  }
}

struct Fixture {
  std::vector<std::vector<std::string>> hashes, crosses;
};

Fixture readFixture() {
  Fixture fixture;
  std::ifstream file(LMC_FIXTURE_DIR "/tensorflow_hashes.tsv");
  EXPECT_TRUE(file.good()) << "cannot read the fixture";
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::vector<std::string> fields = split(line, '\t');
    (fields[0] == "hash" ? fixture.hashes : fixture.crosses).push_back(fields);
  }
  return fixture;
}

TEST(Fingerprint, HashBucketsMatchTensorFlow) {
  Fixture fixture = readFixture();
  ASSERT_GE(fixture.hashes.size(), 1000u);
  for (const auto &fields : fixture.hashes) {
    uint64_t buckets = std::stoull(fields[2]);
    uint64_t expected = std::stoull(fields[3]);
    EXPECT_EQ(fingerprintOf(fields[1]) % buckets, expected)
        << "value " << fields[1] << ", " << buckets << " buckets";
  }
}

TEST(Fingerprint, CrossesMatchTensorFlow) {
  Fixture fixture = readFixture();
  ASSERT_GE(fixture.crosses.size(), 100u);
  for (const auto &fields : fixture.crosses) {
    uint64_t buckets = std::stoull(fields[1]);
    uint64_t hashKey = std::stoull(fields[2]);
    std::vector<std::vector<uint64_t>> inputs;
    size_t i = 3;
    for (; fields[i] != "=>"; ++i) {
      inputs.emplace_back();
      for (const std::string &value : split(fields[i], ','))
        inputs.back().push_back(crossFeatureOf(value));
    }
    std::vector<uint64_t> expected;
    for (++i; i < fields.size(); ++i)
      expected.push_back(std::stoull(fields[i]));
    EXPECT_EQ(crossAll(inputs, hashKey, buckets), expected)
        << "cross with " << buckets << " buckets, key " << hashKey;
  }
}

TEST(Fingerprint, IntegersHashAsTheirDecimalText) {
  EXPECT_EQ(lmc_fingerprint64_of_int(-42), lmc_fingerprint64("-42", 3));
  EXPECT_EQ(lmc_fingerprint64_of_int(INT64_MIN),
            lmc_fingerprint64("-9223372036854775808", 20));
}

TEST(Fingerprint, CatIsNotCommutative) {
  uint64_t a = lmc_fingerprint64("a", 1), b = lmc_fingerprint64("b", 1);
  EXPECT_NE(lmc_fingerprint_cat64(a, b), lmc_fingerprint_cat64(b, a));
}

} // namespace
