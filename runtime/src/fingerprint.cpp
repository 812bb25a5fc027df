// fingerprint.cpp - FarmHash fingerprints and TensorFlow's FingerprintCat64.

#include "lmc/fingerprint.h"

#include <farmhash.h>

#include <cstdint>
#include <string>

extern "C" uint64_t lmc_fingerprint64(const char *data, size_t size) {
  return util::Fingerprint64(data, size);
}

extern "C" uint64_t lmc_fingerprint64_of_int(int64_t value) {
  std::string decimal = std::to_string(value);
  return util::Fingerprint64(decimal.data(), decimal.size());
}

namespace {
// Folds high bits back into the low bits after a multiplication.
uint64_t shiftMix(uint64_t value) { return value ^ (value >> 47); }
} // namespace

// TensorFlow's FingerprintCat64 (tensorflow/core/platform/fingerprint.h): a
// Murmur-style mix of the two values; the constants must stay as they are
// for bucket assignments to match models trained with TensorFlow.
extern "C" uint64_t lmc_fingerprint_cat64(uint64_t first, uint64_t second) {
  const uint64_t kMul = UINT64_C(0xc6a4a7935bd1e995);
  uint64_t result = first ^ kMul;
  result ^= shiftMix(second * kMul) * kMul;
  result *= kMul;
  result = shiftMix(result) * kMul;
  return shiftMix(result);
}

extern "C" uint64_t lmc_cross_bucket(const uint64_t *fingerprints, size_t count,
                                     uint64_t hash_key, uint64_t num_buckets) {
  uint64_t hash = hash_key;
  for (size_t i = 0; i < count; ++i)
    hash = lmc_fingerprint_cat64(hash, fingerprints[i]);
  return hash % (num_buckets ? num_buckets : uint64_t(INT64_MAX));
}
