// cuda_shim.h - the CUDA C subset lmc's emitter writes, as host C++, for
// the device emulator (EmulatedDevice.h). Emitted sources are compiled with
// this header forced in front (-include) and LMC_EMULATED_DEVICE defined,
// which replaces the PTX helpers of the tensor-core attention with the
// host versions at the end of this file. Each CUDA thread is a fiber of
// the emulator; threadIdx and friends read the running fiber's
// coordinates, and warp collectives meet the other lanes of the warp.

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
#define __shared__
#define __align__(bytes) __attribute__((aligned(bytes)))
// __CUDA_ARCH__ comes from the emulator's command line: 750 (plain
// attention) or 800 (tensor-core attention, its PTX emulated below).
#define LMC_EMULATED_DEVICE 1

struct lmc_emu_dim3 {
  unsigned x, y, z;
};
struct lmc_emu_thread {
  lmc_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
};

// Bound by the emulator after it loads the library: the running thread;
// a warp-wide exchange (each lane gives `bytes`, all get every lane's, in
// slots of kLmcEmuSlot bytes); a block-wide barrier.
constexpr int kLmcEmuSlot = 64;
static lmc_emu_thread *(*lmc_emu_self)() = nullptr;
static const unsigned char *(*lmc_emu_warp_exchange)(const void *, unsigned long) = nullptr;
static void (*lmc_emu_block_barrier)() = nullptr;
extern "C" void lmc_emu_bind(lmc_emu_thread *(*self)(),
                             const unsigned char *(*exchange)(const void *, unsigned long),
                             void (*barrier)()) {
  lmc_emu_self = self;
  lmc_emu_warp_exchange = exchange;
  lmc_emu_block_barrier = barrier;
}

#define threadIdx (lmc_emu_self()->threadIdx)
#define blockIdx (lmc_emu_self()->blockIdx)
#define blockDim (lmc_emu_self()->blockDim)
#define gridDim (lmc_emu_self()->gridDim)

// Dynamic shared memory: blocks run one at a time. (C linkage, as the
// kernel's block-scope `extern __shared__` declaration has inside its
// extern "C" entry point.)
extern "C" {
alignas(16) unsigned char lmc_shared[1 << 18];
}

inline void __syncthreads() { lmc_emu_block_barrier(); }

inline int lmc_emu_lane() { return int(threadIdx.x & 31); }

inline float __shfl_xor_sync(unsigned, float value, int laneMask) {
  const unsigned char *all = lmc_emu_warp_exchange(&value, sizeof value);
  float other;
  std::memcpy(&other, all + (lmc_emu_lane() ^ laneMask) * kLmcEmuSlot, sizeof other);
  return other;
}

using std::max;
using std::min;

inline float __int_as_float(int bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}
inline float __log2f(float x) { return log2f(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

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

struct __half2 {
  __half x, y;
};
struct __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
inline __half2 __floats2half2_rn(float lo, float hi) {
  return {__float2half_rn(lo), __float2half_rn(hi)};
}
inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
  return {__float2bfloat16_rn(lo), __float2bfloat16_rn(hi)};
}

// ---- the PTX of the tensor-core attention, as warp-wide host code ----------

// cp.async: the copy happens at once, so commit and wait have nothing to do.
inline void lmc_copy16(void *dst, const void *src, bool valid) {
  if (valid)
    std::memcpy(dst, src, 16);
  else
    std::memset(dst, 0, 16);
}
inline void lmc_commit() {}
inline void lmc_wait_all_but_one() {}
inline float lmc_exp2(float x) { return exp2f(x); }

// ldmatrix .x4: lanes 8m..8m+7 give the row addresses of 8x8 matrix m;
// each lane gets, of every matrix, two 16-bit elements of row lane/4
// (columns 2(lane%4), +1) -- or with .trans of column lane/4 (rows
// 2(lane%4), +1).
inline void lmc_emu_ldmatrix(unsigned (&r)[4], const void *address, bool transposed) {
  const unsigned char *all = lmc_emu_warp_exchange(&address, sizeof address);
  auto row = [&](int lane) {
    const uint16_t *pointer;
    std::memcpy(&pointer, all + lane * kLmcEmuSlot, sizeof pointer);
    return pointer;
  };
  int lane = lmc_emu_lane();
  for (int m = 0; m < 4; ++m) {
    uint16_t lo, hi;
    if (!transposed) {
      lo = row(8 * m + lane / 4)[2 * (lane % 4)];
      hi = row(8 * m + lane / 4)[2 * (lane % 4) + 1];
    } else {
      lo = row(8 * m + 2 * (lane % 4))[lane / 4];
      hi = row(8 * m + 2 * (lane % 4) + 1)[lane / 4];
    }
    r[m] = unsigned(lo) | unsigned(hi) << 16;
  }
}
inline void lmc_ldmatrix(unsigned (&r)[4], const void *p) { lmc_emu_ldmatrix(r, p, false); }
inline void lmc_ldmatrix_trans(unsigned (&r)[4], const void *p) { lmc_emu_ldmatrix(r, p, true); }

inline float lmc_emu_element(unsigned word, int high) {
  uint16_t bits = uint16_t(high ? word >> 16 : word & 0xffff);
#ifdef LMC_EMU_BF16
  return __bfloat162float(__nv_bfloat16{bits});
#else
  return __half2float(__half{bits});
#endif
}

// mma.sync m16n8k16 row.col: D (16x8) = A (16x16) B (16x8) + C, every
// operand spread over the warp's lanes as the PTX ISA lays it out.
inline void lmc_mma(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  struct Fragments {
    unsigned a[4], b[2];
  } mine{{a[0], a[1], a[2], a[3]}, {b0, b1}};
  const unsigned char *all = lmc_emu_warp_exchange(&mine, sizeof mine);
  auto of = [&](int lane) {
    Fragments f;
    std::memcpy(&f, all + lane * kLmcEmuSlot, sizeof f);
    return f;
  };
  auto A = [&](int i, int k) {
    return lmc_emu_element(of((i % 8) * 4 + (k % 8) / 2).a[(i >= 8) + 2 * (k >= 8)], k % 2);
  };
  auto B = [&](int k, int j) { return lmc_emu_element(of(j * 4 + (k % 8) / 2).b[k >= 8], k % 2); };
  int lane = lmc_emu_lane(), group = lane / 4, pair = lane % 4;
  for (int e = 0; e < 4; ++e) {
    int i = group + (e >> 1) * 8, j = 2 * pair + (e & 1);
    float sum = 0;
    for (int k = 0; k < 16; ++k)
      sum += A(i, k) * B(k, j);
    c[e] += sum;
  }
}
