//===- CudaPrelude.h - device helpers every emitted kernel starts with -*- C++ -*-===//
//
// Emitted sources are self-contained translation units: the prelude below
// plus the kernel's entry points. Only cuda_fp16.h and cuda_bf16.h are
// included (raw intrinsics; CCCL headers would cost ~2 s per NVRTC compile).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_CUDAPRELUDE_H
#define LMC_COMPILER_CUDA_CUDAPRELUDE_H

namespace mlir::lmc::cuda {

/// Loads and stores in f32 compute precision, rounding helpers, the
/// feature-column hash (TensorFlow's FingerprintCat64, as in the runtime's
/// fingerprint.cpp) and the segment search over cu_seqlens.
inline constexpr const char *kPrelude = R"cuda(#include <cuda_fp16.h>
#include <cuda_bf16.h>

typedef long long i64;
typedef unsigned long long u64;

__device__ __forceinline__ float lmc_load(const float *p, i64 i) { return p[i]; }
__device__ __forceinline__ float lmc_load(const __half *p, i64 i) { return __half2float(p[i]); }
__device__ __forceinline__ float lmc_load(const __nv_bfloat16 *p, i64 i) { return __bfloat162float(p[i]); }
__device__ __forceinline__ i64 lmc_load(const i64 *p, i64 i) { return p[i]; }
__device__ __forceinline__ i64 lmc_load(const int *p, i64 i) { return p[i]; }
__device__ __forceinline__ bool lmc_load(const unsigned char *p, i64 i) { return p[i] != 0; }

__device__ __forceinline__ void lmc_store(float *p, i64 i, float v) { p[i] = v; }
__device__ __forceinline__ void lmc_store(__half *p, i64 i, float v) { p[i] = __float2half_rn(v); }
__device__ __forceinline__ void lmc_store(__nv_bfloat16 *p, i64 i, float v) { p[i] = __float2bfloat16_rn(v); }
__device__ __forceinline__ void lmc_store(i64 *p, i64 i, i64 v) { p[i] = v; }
__device__ __forceinline__ void lmc_store(int *p, i64 i, i64 v) { p[i] = int(v); }
__device__ __forceinline__ void lmc_store(unsigned char *p, i64 i, bool v) { p[i] = v ? 1 : 0; }

// Values of f16 and bf16 ops are rounded after every op, as on the CPU.
__device__ __forceinline__ float lmc_round_f16(float v) { return __half2float(__float2half_rn(v)); }
__device__ __forceinline__ float lmc_round_bf16(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

// Float to integer: truncation, saturating, NaN to 0 (the CPU's rule).
__device__ __forceinline__ i64 lmc_to_integer(float v) {
  if (v != v) return 0;
  if (v >= 9.2233720368547758e18f) return 0x7fffffffffffffffLL;
  if (v < -9.2233720368547758e18f) return (-0x7fffffffffffffffLL - 1);
  return (i64)truncf(v);
}

__device__ __forceinline__ float lmc_max(float a, float b) { return a < b ? b : a; }
__device__ __forceinline__ float lmc_min(float a, float b) { return b < a ? b : a; }
__device__ __forceinline__ i64 lmc_max(i64 a, i64 b) { return a < b ? b : a; }
__device__ __forceinline__ i64 lmc_min(i64 a, i64 b) { return b < a ? b : a; }
__device__ __forceinline__ i64 lmc_div(i64 a, i64 b) {
  return b != 0 && !(a == (-0x7fffffffffffffffLL - 1) && b == -1) ? a / b : 0;
}

__device__ __forceinline__ float lmc_gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
}
// sqrt from the hardware's reciprocal square root: IEEE sqrtf's slow path
// is a subroutine call that makes large fused kernels spill (measured with
// ptxas -v). Within 2 ulp; exact at 0, +inf and NaN.
__device__ __forceinline__ float lmc_sqrt(float x) {
  const float infinity = __int_as_float(0x7f800000), nan = __int_as_float(0x7fc00000);
  if (x > 0.0f && x < infinity)
    return x * rsqrtf(x);
  return x < 0.0f ? nan : x; // 0, +inf and NaN are their own roots
}

__device__ __forceinline__ float lmc_gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.7071067812f));
}

__device__ __forceinline__ u64 lmc_shift_mix(u64 v) { return v ^ (v >> 47); }
__device__ __forceinline__ u64 lmc_fingerprint_cat64(u64 first, u64 second) {
  const u64 kMul = 0xc6a4a7935bd1e995ULL;
  u64 result = first ^ kMul;
  result ^= lmc_shift_mix(second * kMul) * kMul;
  result *= kMul;
  result = lmc_shift_mix(result) * kMul;
  return lmc_shift_mix(result);
}

// The sequence a packed token belongs to: the last s with cu[s] <= t.
template <typename Index>
__device__ __forceinline__ i64 lmc_segment_of(const Index *cu, i64 segments, i64 t) {
  i64 low = 0, high = segments; // cu[low] <= t < cu[high]
  while (high - low > 1) {
    i64 middle = (low + high) >> 1;
    if ((i64)cu[middle] <= t) low = middle; else high = middle;
  }
  return low;
}

// A vocabulary is sorted (fingerprint, index) pairs; -1 when absent.
__device__ __forceinline__ i64 lmc_vocab_find(const i64 *table, i64 size, i64 fingerprint) {
  i64 low = 0, high = size;
  while (low < high) {
    i64 middle = (low + high) >> 1;
    if (table[2 * middle] < fingerprint) low = middle + 1; else high = middle;
  }
  return low < size && table[2 * low] == fingerprint ? table[2 * low + 1] : -1;
}

// Bucketize: how many boundaries are <= x (std::upper_bound).
// TensorFlow's Bucketize (std::upper_bound) on its CPU kernels, which run
// with subnormals flushed: a subnormal value or boundary compares as zero,
// NaN lands in the last bucket.
__device__ __forceinline__ float lmc_flush_subnormal(float v) {
  return fabsf(v) < 1.17549435e-38f ? 0.0f : v;
}
__device__ __forceinline__ i64 lmc_bucket_of(const float *boundaries, i64 size, float x) {
  x = lmc_flush_subnormal(x);
  i64 low = 0, high = size;
  while (low < high) {
    i64 middle = (low + high) >> 1;
    if (!(x < lmc_flush_subnormal(boundaries[middle]))) low = middle + 1; else high = middle;
  }
  return low;
}

__device__ __forceinline__ float lmc_warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float lmc_warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = lmc_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}
)cuda";

} // namespace mlir::lmc::cuda

#endif // LMC_COMPILER_CUDA_CUDAPRELUDE_H
