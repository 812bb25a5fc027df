// cuda_shim.h - the CUDA C subset lmc's emitter writes, as host C++, for
// the device emulator (EmulatedDevice.h). Emitted sources are compiled with
// this header forced in front (-include) and __CUDA_ARCH__ = 750, so the
// attention kernel is its plain form (the tensor-core form is inline PTX,
// which only a GPU runs). Each CUDA thread is a fiber of the emulator;
// threadIdx and friends read the running fiber's coordinates, and warp
// shuffles meet the other lanes of the warp.

#pragma once

#include <math.h>

#include <cmath>

#include <algorithm>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(threads)
#define __CUDA_ARCH__ 750

struct lmc_emu_dim3 {
  unsigned x, y, z;
};
struct lmc_emu_thread {
  lmc_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
};

// Bound by the emulator after it loads the library.
static lmc_emu_thread *(*lmc_emu_self)() = nullptr;
static float (*lmc_emu_shuffle_xor)(float, int) = nullptr;
extern "C" void lmc_emu_bind(lmc_emu_thread *(*self)(), float (*shuffle)(float, int)) {
  lmc_emu_self = self;
  lmc_emu_shuffle_xor = shuffle;
}

#define threadIdx (lmc_emu_self()->threadIdx)
#define blockIdx (lmc_emu_self()->blockIdx)
#define blockDim (lmc_emu_self()->blockDim)
#define gridDim (lmc_emu_self()->gridDim)

inline float __shfl_xor_sync(unsigned, float value, int laneMask) {
  return lmc_emu_shuffle_xor(value, laneMask);
}

using std::max;
using std::min;

inline float __int_as_float(int bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}
inline float __log2f(float x) { return log2f(x); }

// IEEE binary16 and bfloat16 storage, rounded to nearest even.
struct __half {
  uint16_t bits;
};
struct __nv_bfloat16 {
  uint16_t bits;
};

inline float __half2float(__half h) {
  uint32_t sign = uint32_t(h.bits & 0x8000) << 16, exponent = (h.bits >> 10) & 0x1f,
           mantissa = h.bits & 0x3ff, bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent == 0) {
    float value = std::ldexp(float(mantissa), -24);
    return sign ? -value : value;
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

inline __half __float2half_rn(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  if (std::isnan(value))
    return {uint16_t(sign | 0x7e00)};
  float magnitude = std::fabs(value);
  if (magnitude >= 65520.0f)
    return {uint16_t(sign | 0x7c00)};
  if (magnitude < 6.103515625e-05f) { // subnormal: multiples of 2^-24
    float scaled = std::nearbyint(magnitude * 16777216.0f);
    return {uint16_t(sign | uint16_t(scaled))};
  }
  uint32_t exponent = ((bits >> 23) & 0xff) - 112, mantissa = bits & 0x7fffff;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return {uint16_t(sign | half)};
}

inline float __bfloat162float(__nv_bfloat16 b) {
  uint32_t bits = uint32_t(b.bits) << 16;
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

inline __nv_bfloat16 __float2bfloat16_rn(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return {uint16_t((bits >> 16) | 0x40)};
  bits += 0x7fff + ((bits >> 16) & 1);
  return {uint16_t(bits >> 16)};
}
