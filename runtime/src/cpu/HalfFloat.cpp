// HalfFloat.cpp - f16/bf16 <-> f32 conversion, F16C-accelerated on x86.

#include "cpu/HalfFloat.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lmc::cpu {
namespace {

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

float floatOf(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

float softHalfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0x1f) // inf / NaN
    return floatOf(sign | 0x7f800000 | (mantissa << 13));
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
    float magnitude = float(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return floatOf(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t softFloatToHalf(float value) {
  uint32_t bits = bitsOf(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x7f800000) // inf / NaN (keep NaN quiet)
    return sign | 0x7c00 | (magnitude > 0x7f800000 ? 0x200 : 0);
  if (magnitude >= 0x477ff000) // rounds beyond 65504
    return sign | 0x7c00;
  if (magnitude < 0x38800000) { // subnormal half: round |x| * 2^24
    float scaled = floatOf(magnitude) * 0x1p24f;
    // Adding 2^23 rounds to an integer with the FPU's nearest-even rule.
    uint32_t rounded = bitsOf(scaled + 0x1p23f) - bitsOf(0x1p23f);
    return sign | uint16_t(rounded);
  }
  uint32_t halfBits = (magnitude - 0x38000000) >> 13; // rebias 127 -> 15
  uint32_t rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (halfBits & 1)))
    ++halfBits;
  return sign | uint16_t(halfBits);
}

#if defined(__x86_64__)
bool hasF16C() {
  static const bool has = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return has;
}

__attribute__((target("avx,f16c"))) void f16cToFloat(const uint16_t *in,
                                                     float *out, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i *>(in + i))));
  for (; i < count; ++i)
    out[i] = softHalfToFloat(in[i]);
}

__attribute__((target("avx,f16c"))) void f16cFromFloat(const float *in,
                                                       uint16_t *out, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < count; ++i)
    out[i] = softFloatToHalf(in[i]);
}
#endif

} // namespace

float halfToFloat(uint16_t value) { return softHalfToFloat(value); }
uint16_t floatToHalf(float value) { return softFloatToHalf(value); }

void halfToFloat(const uint16_t *in, float *out, size_t count) {
#if defined(__x86_64__)
  if (hasF16C())
    return f16cToFloat(in, out, count);
#endif
  for (size_t i = 0; i < count; ++i)
    out[i] = softHalfToFloat(in[i]);
}

void floatToHalf(const float *in, uint16_t *out, size_t count) {
#if defined(__x86_64__)
  if (hasF16C())
    return f16cFromFloat(in, out, count);
#endif
  for (size_t i = 0; i < count; ++i)
    out[i] = softFloatToHalf(in[i]);
}

void bfloatToFloat(const uint16_t *in, float *out, size_t count) {
  for (size_t i = 0; i < count; ++i)
    out[i] = floatOf(uint32_t(in[i]) << 16);
}

void floatToBfloat(const float *in, uint16_t *out, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits = bitsOf(in[i]);
    if ((bits & 0x7fffffff) > 0x7f800000) { // NaN stays NaN
      out[i] = uint16_t((bits >> 16) | 0x40);
      continue;
    }
    bits += 0x7fff + ((bits >> 16) & 1); // round to nearest even
    out[i] = uint16_t(bits >> 16);
  }
}

} // namespace lmc::cpu
