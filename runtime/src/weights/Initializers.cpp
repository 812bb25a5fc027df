// Initializers.cpp - seeded, platform-stable parameter initialization.

#include "weights/Initializers.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace lmc::rt {
namespace {

// A double in [0, 1) from 53 random bits.
double uniform01(std::mt19937_64 &engine) { return double(engine() >> 11) * 0x1.0p-53; }

// Box-Muller, written out so the values are the same on every platform
// (std::normal_distribution's algorithm is implementation-defined).
double standardNormal(std::mt19937_64 &engine) {
  double u1 = 1.0 - uniform01(engine), u2 = uniform01(engine);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// FNV-1a: a stable hash of the parameter's name for its generator's seed.
uint64_t hashName(const std::string &name) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : name)
    hash = (hash ^ uint8_t(c)) * 0x100000001b3ULL;
  return hash;
}

} // namespace

Initializer::Initializer(const std::string &name, uint64_t seed, const std::string &kindName,
                         const std::vector<std::pair<std::string, double>> &fields,
                         const std::vector<int64_t> &shape)
    : kind(kindName.empty() ? "truncated_normal" : kindName), engine(seed ^ hashName(name)) {
  // Looked up once, not per value.
  static const std::pair<const char *, Form> forms[] = {
      {"zeros", Form::Zeros},     {"ones", Form::Ones},         {"normal", Form::Normal},
      {"truncated_normal", Form::TruncatedNormal}, {"uniform", Form::Uniform},
      {"glorot_uniform", Form::GlorotUniform}};
  for (const auto &[formName, known] : forms)
    if (kind == formName) {
      form = known;
      isKnown = true;
    }
  auto field = [&](const char *key, double fallback) {
    for (const auto &[fieldName, value] : fields)
      if (fieldName == key)
        return value;
    return fallback;
  };
  for (int64_t dim : shape)
    count *= dim;
  mean = field("mean", 0.0);
  stddev = field("stddev", 0.02);
  int64_t fanOut = shape.empty() ? 1 : shape.back();
  int64_t fanIn = std::max<int64_t>(1, count / std::max<int64_t>(1, fanOut));
  limit = std::sqrt(6.0 / double(fanIn + fanOut));
  min = field("min", 0);
  max = field("max", 1);
}

void Initializer::next(int64_t values, double *out) {
  for (int64_t i = 0; i < values; ++i) {
    double &value = out[i];
    switch (form) {
    case Form::Zeros: value = 0; break;
    case Form::Ones: value = 1; break;
    case Form::Normal: value = mean + stddev * standardNormal(engine); break;
    case Form::TruncatedNormal: {
      double z;
      do
        z = standardNormal(engine);
      while (std::abs(z) > 2);
      value = mean + stddev * z;
      break;
    }
    case Form::Uniform: value = min + (max - min) * uniform01(engine); break;
    case Form::GlorotUniform: value = -limit + 2 * limit * uniform01(engine); break;
    }
  }
}

bool initialize(const std::string &name, uint64_t seed, const std::string &kind,
                const std::vector<std::pair<std::string, double>> &fields,
                const std::vector<int64_t> &shape, std::vector<double> &out) {
  Initializer values(name, seed, kind, fields, shape);
  if (!values.known())
    return false;
  out.assign(size_t(values.size()), 0.0);
  values.next(values.size(), out.data());
  return true;
}

} // namespace lmc::rt
