// FastMath.h - exp2/exp/tanh that vectorize.
//
// libm's expf and tanhf are calls the compiler cannot vectorize; attention
// evaluates one exp per score and GELU one tanh per activation, so those
// loops use these instead: a degree-6 polynomial for 2^f on f in [-1/2, 1/2]
// and the exponent set by bit arithmetic. Relative error below 2e-7 (about
// one f32 ulp); inputs below -126 (after scaling) give 2^-126, which is zero
// to every sum it enters.

#ifndef LMC_RUNTIME_CPU_FASTMATH_H
#define LMC_RUNTIME_CPU_FASTMATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lmc::cpu {

inline float fastExp2(float x) {
  // NaN computes as 0 and is returned as it came: converting it to an
  // integer below would be undefined (the package fuzzer found one).
  bool nan = x != x;
  float y = nan ? 0.0f : x < -126.0f ? -126.0f : x > 127.0f ? 127.0f : x;
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer with
  // plain float arithmetic, which vectorizes (nearbyint does not).
  float n = (y + 12582912.0f) - 12582912.0f;
  float f = y - n;
  float p = 1.5403530e-4f;
  p = p * f + 1.3333558e-3f;
  p = p * f + 9.6181291e-3f;
  p = p * f + 5.5504109e-2f;
  p = p * f + 2.4022651e-1f;
  p = p * f + 6.9314718e-1f;
  p = p * f + 1.0f;
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return nan ? x : p * scale;
}

inline float fastExp(float x) { return fastExp2(x * 1.44269504f); }

/// tanh(y) = 1 - 2 / (e^{2y} + 1); absolute error below 2e-7.
inline float fastTanh(float y) { return 1.0f - 2.0f / (fastExp(2.0f * y) + 1.0f); }

/// a . b with eight partial sums: a reduction the compiler turns into one
/// vector FMA per eight elements (a plain `sum +=` loop stays scalar, since
/// reassociating it changes the result).
__attribute__((always_inline)) inline float dotProduct(const float *a, const float *b,
                                                       int64_t n) {
  float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int lane = 0; lane < 8; ++lane)
      partial[lane] += a[i + lane] * b[i + lane];
  float sum = 0;
  for (; i < n; ++i)
    sum += a[i] * b[i];
  for (float value : partial)
    sum += value;
  return sum;
}

/// The largest of values[0, n) (-infinity for none) with sixteen partial
/// maxima: lane-wise vector max instructions (a plain max reduction stays
/// scalar, since reordering it changes which NaN or zero is returned).
__attribute__((always_inline)) inline float maxOf(const float *values, int64_t n) {
  float partial[16];
  for (float &value : partial)
    value = -INFINITY;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int lane = 0; lane < 16; ++lane)
      partial[lane] = partial[lane] < values[i + lane] ? values[i + lane] : partial[lane];
  float best = -INFINITY;
  for (; i < n; ++i)
    best = best < values[i] ? values[i] : best;
  for (float value : partial)
    best = best < value ? value : best;
  return best;
}

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_FASTMATH_H
