// Initializers.h - parameter values generated from a recorded initializer.
//
// One definition shared by `lmc init-weights` (runtime) and `lmc eval --seed`
// (the reference evaluator), so both produce the same values bit for bit on
// every platform: a 64-bit Mersenne Twister seeded with seed ^ FNV-1a(name),
// so one parameter's values do not depend on the others.

#ifndef LMC_RUNTIME_WEIGHTS_INITIALIZERS_H
#define LMC_RUNTIME_WEIGHTS_INITIALIZERS_H

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace lmc::rt {

/// A parameter's values in row-major order, generated a piece at a time
/// (the same values as `initialize`, without holding them all).
class Initializer {
public:
  Initializer(const std::string &name, uint64_t seed, const std::string &kind,
              const std::vector<std::pair<std::string, double>> &fields,
              const std::vector<int64_t> &shape);
  /// False for a kind `initialize` does not know.
  bool known() const { return isKnown; }
  int64_t size() const { return count; }
  /// Writes the next `values` values to `out`.
  void next(int64_t values, double *out);

private:
  enum class Form { Zeros, Ones, Normal, TruncatedNormal, Uniform, GlorotUniform };
  std::string kind;
  Form form = Form::Zeros;
  bool isKnown = false;
  int64_t count = 1;
  std::mt19937_64 engine;
  double mean = 0, stddev = 0, limit = 0, min = 0, max = 1;
};

/// Fills `out` (row-major, `shape`) with the initializer `kind`: "zeros",
/// "ones", "normal" / "truncated_normal" (fields mean, stddev; truncation at
/// two standard deviations), "uniform" (min, max) or "glorot_uniform". An
/// empty kind is a truncated normal of stddev 0.02. Returns false for an
/// unknown kind.
bool initialize(const std::string &name, uint64_t seed, const std::string &kind,
                const std::vector<std::pair<std::string, double>> &fields,
                const std::vector<int64_t> &shape, std::vector<double> &out);

} // namespace lmc::rt

#endif // LMC_RUNTIME_WEIGHTS_INITIALIZERS_H
