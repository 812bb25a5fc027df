//===- AttentionGradEmitter.cpp - lmc.attention_grad on the GPU -----------===//
//
// FlashAttention-2's backward over packed sequences, as two kernels over the
// forward's tile list (one block per query tile and head, so no block
// exists outside a sequence), both recomputing P = exp(scale q.k - lse)
// from the forward's log-sum-exp instead of storing it:
//   * dQ (block per tile and query head): dq = scale * sum_k dS k with
//     dS = P (dP - D), dP = dO.v and D = rowsum(dO * O), which this kernel
//     computes for its rows and leaves in the launch's row scratch;
//   * dK, dV (block per tile and key head): the tile's rows taken as key
//     rows (keys and queries are the same tokens of a packed sequence),
//     walking the query rows that see them, for every query head reading
//     its key head: dv = sum_q P dO, dk = scale * sum_q dS q.
// No [S, S] matrix exists and no atomics are needed: each block owns the
// rows it writes. That costs S and dP twice (7 tile products where
// FlashAttention-2's atomic dQ takes 5) and keeps the result deterministic.
//
// f16/bf16 with head dims that are multiples of 16 up to 128 run on tensor
// cores (mma.sync m16n8k16, f32 accumulation; P and dS are rounded to the
// input type before their products, as in FlashAttention-2); other types
// and shapes, and sm_75, take plain kernels (a warp per row, f32 math).
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/AttentionTile.h"
#include "compiler/cuda/CudaPrelude.h"
#include "compiler/cuda/KernelEmitter.h"

#include "artifact/OpTable.h"
#include "compiler/cuda/TensorCore.h"

#include <cmath>
#include <sstream>

namespace mlir::lmc::cuda {
namespace {

namespace rt = ::lmc::rt;

/// Fragment helpers over shared tiles of kStride elements per row, for a
/// warp's 16 rows. The accumulator layout of an m16n8 product is the A
/// operand's, so a product's tile feeds the next product from registers.
constexpr const char *kFragments = R"cuda(
// A operand: rows [row0, row0 + 16) x columns [col0, col0 + 16) of a tile.
__device__ __forceinline__ void lmc_load_a(unsigned (&a)[4], const Element *tile, int row0,
                                           int col0) {
  const int lane = threadIdx.x & 31;
  lmc_ldmatrix(a, tile + (row0 + (lane & 15)) * kStride + col0 + (lane >> 4) * 8);
}
// c[16 x kN] += a * B^T: B's rows [0, kN) and columns [col0, col0 + 16).
template <int kN>
__device__ __forceinline__ void lmc_mma_bt(float (&c)[kN / 8][4], const unsigned (&a)[4],
                                           const Element *b, int col0) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int n = 0; n < kN / 16; ++n) {
    unsigned f[4];
    lmc_ldmatrix(f, b + (n * 16 + (lane & 7) + ((lane >> 4) << 3)) * kStride + col0 +
                        ((lane >> 3) & 1) * 8);
    lmc_mma(c[2 * n], a, f[0], f[1]);
    lmc_mma(c[2 * n + 1], a, f[2], f[3]);
  }
}
// c[16 x kN] += a * B: B's rows [row0, row0 + 16) and columns [0, kN).
template <int kN>
__device__ __forceinline__ void lmc_mma_b(float (&c)[kN / 8][4], const unsigned (&a)[4],
                                          const Element *b, int row0) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int d = 0; d < kN / 16; ++d) {
    unsigned f[4];
    lmc_ldmatrix_trans(f, b + (row0 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride + d * 16 +
                              (lane >> 4) * 8);
    lmc_mma(c[2 * d], a, f[0], f[1]);
    lmc_mma(c[2 * d + 1], a, f[2], f[3]);
  }
}
// Columns [16 kk, 16 kk + 16) of an accumulator tile as an A operand.
template <int kN>
__device__ __forceinline__ void lmc_as_a(unsigned (&a)[4], const float (&c)[kN / 8][4], int kk) {
  a[0] = lmc_pack(c[2 * kk][0], c[2 * kk][1]);
  a[1] = lmc_pack(c[2 * kk][2], c[2 * kk][3]);
  a[2] = lmc_pack(c[2 * kk + 1][0], c[2 * kk + 1][1]);
  a[3] = lmc_pack(c[2 * kk + 1][2], c[2 * kk + 1][3]);
}
// Rows [0, rows) of a [row][head] matrix, this head's kHeadDim columns, into
// a shared tile (zeros past `rows`), with cp.async.
__device__ __forceinline__ void lmc_load_rows(Element *tile, const Element *first, i64 rowStride,
                                              int count, int rows) {
  constexpr int kChunks = kHeadDim / 8; // 16-byte chunks per row
  for (int c = threadIdx.x; c < count * kChunks; c += kThreads) {
    const int r = c / kChunks, col = (c % kChunks) * 8;
    const bool valid = r < rows;
    lmc_copy16(tile + r * kStride + col, first + (valid ? r : 0) * rowStride + col, valid);
  }
}
// Stores a warp's 16 x kHeadDim accumulator rows (those below `rows`) times
// `scale`.
__device__ __forceinline__ void lmc_store_rows(Element *first, i64 rowStride, int row0, int rows,
                                               const float (&c)[kHeadDim / 8][4], float scale) {
  const int lane = threadIdx.x & 31, group = lane >> 2, quad = lane & 3;
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = row0 + group + i * 8;
    if (row >= rows) continue;
#pragma unroll
    for (int d = 0; d < kHeadDim / 8; ++d)
      *reinterpret_cast<unsigned *>(first + row * rowStride + d * 8 + quad * 2) =
          lmc_pack(c[d][2 * i] * scale, c[d][2 * i + 1] * scale);
  }
}
)cuda";

constexpr const char *kTensorCoreKernels = R"cuda(
constexpr float kLog2e = 1.4426950408889634f;

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dq(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    const Element *__restrict__ out, const float *__restrict__ lse,
    const Element *__restrict__ dout, Element *__restrict__ dq, float *__restrict__ rowDots,
    const LmcTile *__restrict__ tiles, const int tileCount) {
  extern __shared__ __align__(16) unsigned char lmc_shared[];
  Element *sq = reinterpret_cast<Element *>(lmc_shared); // [kBlockQ][kStride]
  Element *sdo = sq + kBlockQ * kStride;                 // [kBlockQ][kStride]
  Element *sk = sdo + kBlockQ * kStride;                 // [2][kStep][kStride]
  Element *sv = sk + 2 * kStep * kStride;                // [2][kStep][kStride]
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y, keyHead = head / kGroup;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int group = lane >> 2, quad = lane & 3;
  const i64 rowStride = (i64)kHeads * kHeadDim, keyStride = (i64)kKeyHeads * kHeadDim;
  const i64 firstQuery = (i64)tile.queryRow * rowStride + head * kHeadDim;
  const Element *kBase = k + (i64)tile.keyRow * keyStride + keyHead * kHeadDim;
  const Element *vBase = v + (i64)tile.keyRow * keyStride + keyHead * kHeadDim;
  int keyEnd = tile.keys;
  if (kCausal) keyEnd = min(keyEnd, tile.queryPosition + tile.rows);
  const int keySteps = (keyEnd + kStep - 1) / kStep;

  lmc_load_rows(sq, q + firstQuery, rowStride, kBlockQ, tile.rows);
  lmc_load_rows(sdo, dout + firstQuery, rowStride, kBlockQ, tile.rows);
  lmc_commit();
  auto loadKeys = [&](int step, int stage) {
    const int first = step * kStep;
    lmc_load_rows(sk + stage * kStep * kStride, kBase + first * keyStride, keyStride, kStep,
                  keyEnd - first);
    lmc_load_rows(sv + stage * kStep * kStride, vBase + first * keyStride, keyStride, kStep,
                  keyEnd - first);
  };
  if (keySteps > 0) loadKeys(0, 0);
  lmc_commit();

  // D = rowsum(dO * O) of the warp's rows, while the copies fly; the dK/dV
  // kernel reads it from the row scratch. Each thread keeps its two rows'.
  float rowDot[2] = {0.0f, 0.0f}, rowLse[2] = {0.0f, 0.0f};
  for (int r = 0; r < 16; ++r) {
    const int row = warp * 16 + r;
    if (row >= tile.rows) break;
    const i64 at = (i64)(tile.queryRow + row) * rowStride + head * kHeadDim;
    float dot = 0.0f;
    for (int d = lane; d < kHeadDim; d += 32) dot += lmc_load(dout, at + d) * lmc_load(out, at + d);
    dot = lmc_warp_sum(dot);
    if (r == group) rowDot[0] = dot;
    if (r == group + 8) rowDot[1] = dot;
    if (lane == 0) rowDots[(i64)(tile.queryRow + row) * kHeads + head] = dot;
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = warp * 16 + group + i * 8;
    if (row < tile.rows) rowLse[i] = lse[(i64)(tile.queryRow + row) * kHeads + head] * kLog2e;
  }
  lmc_wait_all_but_one(); // Q and dO have landed
  __syncthreads();
  unsigned qf[kHeadDim / 16][4], df[kHeadDim / 16][4];
#pragma unroll
  for (int kk = 0; kk < kHeadDim / 16; ++kk) {
    lmc_load_a(qf[kk], sq, warp * 16, kk * 16);
    lmc_load_a(df[kk], sdo, warp * 16, kk * 16);
  }

  float acc[kHeadDim / 8][4];
#pragma unroll
  for (int d = 0; d < kHeadDim / 8; ++d) acc[d][0] = acc[d][1] = acc[d][2] = acc[d][3] = 0.0f;
  for (int j = 0; j < keySteps; ++j) {
    const int stage = j & 1;
    if (j + 1 < keySteps) loadKeys(j + 1, stage ^ 1);
    lmc_commit();
    lmc_wait_all_but_one(); // step j has landed
    __syncthreads();
    const Element *ks = sk + stage * kStep * kStride, *vs = sv + stage * kStep * kStride;
    float s[kStep / 8][4], dp[kStep / 8][4];
#pragma unroll
    for (int n = 0; n < kStep / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[n][e] = dp[n][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk) {
      lmc_mma_bt<kStep>(s, qf[kk], ks, kk * 16);  // S = Q K^T
      lmc_mma_bt<kStep>(dp, df[kk], vs, kk * 16); // dP = dO V^T
    }
    // dS / scale = P (dP - D); keys past the sequence, or (causal) in a
    // row's future, have P = 0.
    const int keyStart = j * kStep;
    const bool boundary = keyStart + kStep > tile.keys ||
                          (kCausal && keyStart + kStep > tile.queryPosition + warp * 16 + 1);
#pragma unroll
    for (int n = 0; n < kStep / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = keyStart + n * 8 + quad * 2 + (e & 1);
        const int position = tile.queryPosition + warp * 16 + group + (e >> 1) * 8;
        const bool hidden = boundary && (key >= tile.keys || (kCausal && key > position));
        const float p = hidden ? 0.0f : lmc_exp2(s[n][e] * kScaleLog2 - rowLse[e >> 1]);
        s[n][e] = p * (dp[n][e] - rowDot[e >> 1]);
      }
#pragma unroll
    for (int kk = 0; kk < kStep / 16; ++kk) {
      unsigned a[4];
      lmc_as_a<kStep>(a, s, kk);
      lmc_mma_b<kHeadDim>(acc, a, ks, kk * 16); // dQ += dS K
    }
    __syncthreads(); // every warp is done with this stage before it is refilled
  }
  lmc_store_rows(dq + firstQuery, rowStride, warp * 16, tile.rows, acc, kScale);
}

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dkdv(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    const Element *__restrict__ out, const float *__restrict__ lse,
    const Element *__restrict__ dout, Element *__restrict__ dk, Element *__restrict__ dv,
    const float *__restrict__ rowDots, const LmcTile *__restrict__ tiles, const int tileCount) {
  extern __shared__ __align__(16) unsigned char lmc_shared[];
  Element *sk = reinterpret_cast<Element *>(lmc_shared);     // [kBlockQ][kStride]
  Element *sv = sk + kBlockQ * kStride;                      // [kBlockQ][kStride]
  Element *sq = sv + kBlockQ * kStride;                      // [2][kStep][kStride]
  Element *sdo = sq + 2 * kStep * kStride;                   // [2][kStep][kStride]
  float *sl = reinterpret_cast<float *>(sdo + 2 * kStep * kStride); // [2][kStep] lse log2 e
  float *sd = sl + 2 * kStep;                                // [2][kStep] D
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int keyHead = blockIdx.y;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int group = lane >> 2, quad = lane & 3;
  const i64 rowStride = (i64)kHeads * kHeadDim, keyStride = (i64)kKeyHeads * kHeadDim;
  // Packed self-attention: the tile's query rows are the sequence's keys.
  const i64 firstKey = (i64)tile.queryRow * keyStride + keyHead * kHeadDim;
  lmc_load_rows(sk, k + firstKey, keyStride, kBlockQ, tile.rows);
  lmc_load_rows(sv, v + firstKey, keyStride, kBlockQ, tile.rows);
  lmc_commit();

  // Queries that see these keys: all of the sequence's, or (causal) those
  // from the tile's first position on. Step t covers query head
  // keyHead * kGroup + t / querySteps.
  const int queryStart = kCausal ? tile.queryPosition : 0;
  const int querySteps = (tile.keys - queryStart + kStep - 1) / kStep;
  const int steps = kGroup * querySteps;
  auto loadQueries = [&](int step, int stage) {
    const int head = keyHead * kGroup + step / querySteps;
    const int first = queryStart + (step % querySteps) * kStep;
    const i64 row = (i64)tile.keyRow + first;
    lmc_load_rows(sq + stage * kStep * kStride, q + row * rowStride + head * kHeadDim, rowStride,
                  kStep, tile.keys - first);
    lmc_load_rows(sdo + stage * kStep * kStride, dout + row * rowStride + head * kHeadDim,
                  rowStride, kStep, tile.keys - first);
    // A row past the sequence gets lse = +inf: its P is exp2(-inf) = 0.
    for (int r = threadIdx.x; r < kStep; r += kThreads) {
      const bool valid = first + r < tile.keys;
      sl[stage * kStep + r] =
          valid ? lse[(row + r) * kHeads + head] * kLog2e : __int_as_float(0x7f800000);
      sd[stage * kStep + r] = valid ? rowDots[(row + r) * kHeads + head] : 0.0f;
    }
  };
  if (steps > 0) loadQueries(0, 0);
  lmc_commit();

  float dkAcc[kHeadDim / 8][4], dvAcc[kHeadDim / 8][4];
#pragma unroll
  for (int d = 0; d < kHeadDim / 8; ++d)
#pragma unroll
    for (int e = 0; e < 4; ++e) dkAcc[d][e] = dvAcc[d][e] = 0.0f;
  const int lastKey = tile.queryPosition + warp * 16 + 15; // position of the warp's last key row
  for (int t = 0; t < steps; ++t) {
    const int stage = t & 1;
    if (t + 1 < steps) loadQueries(t + 1, stage ^ 1);
    lmc_commit();
    lmc_wait_all_but_one(); // K and V, and step t, have landed
    __syncthreads();
    const Element *qs = sq + stage * kStep * kStride, *dos = sdo + stage * kStep * kStride;
    const float *rowLse = sl + stage * kStep, *rowDot = sd + stage * kStep;
    float s[kStep / 8][4], dp[kStep / 8][4];
#pragma unroll
    for (int n = 0; n < kStep / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[n][e] = dp[n][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk) {
      unsigned a[4];
      lmc_load_a(a, sk, warp * 16, kk * 16);
      lmc_mma_bt<kStep>(s, a, qs, kk * 16); // S^T = K Q^T
      lmc_load_a(a, sv, warp * 16, kk * 16);
      lmc_mma_bt<kStep>(dp, a, dos, kk * 16); // dP^T = V dO^T
    }
    // P^T, and dS^T / scale = P^T (dP^T - D); causal hides a query before
    // the key.
    const int firstQuery = queryStart + (t % querySteps) * kStep;
    const bool boundary = kCausal && firstQuery < lastKey;
#pragma unroll
    for (int n = 0; n < kStep / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int column = n * 8 + quad * 2 + (e & 1);
        const int key = tile.queryPosition + warp * 16 + group + (e >> 1) * 8;
        const bool hidden = boundary && firstQuery + column < key;
        const float p = hidden ? 0.0f : lmc_exp2(s[n][e] * kScaleLog2 - rowLse[column]);
        s[n][e] = p;
        dp[n][e] = p * (dp[n][e] - rowDot[column]);
      }
#pragma unroll
    for (int kk = 0; kk < kStep / 16; ++kk) {
      unsigned a[4];
      lmc_as_a<kStep>(a, s, kk);
      lmc_mma_b<kHeadDim>(dvAcc, a, dos, kk * 16); // dV += P^T dO
      lmc_as_a<kStep>(a, dp, kk);
      lmc_mma_b<kHeadDim>(dkAcc, a, qs, kk * 16); // dK += dS^T Q
    }
    __syncthreads(); // every warp is done with this stage before it is refilled
  }
  lmc_store_rows(dk + firstKey, keyStride, warp * 16, tile.rows, dkAcc, kScale);
  lmc_store_rows(dv + firstKey, keyStride, warp * 16, tile.rows, dvAcc, 1.0f);
}
)cuda";

/// Any float type, any head dims up to 256, any arch: a warp per row.
constexpr const char *kPlainKernels = R"cuda(
constexpr int kPerLane = (kHeadDim + 31) / 32, kValuePerLane = (kValueDim + 31) / 32;

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dq(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    const Element *__restrict__ out, const float *__restrict__ lse,
    const Element *__restrict__ dout, Element *__restrict__ dq, float *__restrict__ rowDots,
    const LmcTile *__restrict__ tiles, const int tileCount) {
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y, keyHead = head / kGroup;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  for (int r = warp; r < tile.rows; r += kThreads / 32) {
    const i64 row = tile.queryRow + r;
    const int position = tile.queryPosition + r;
    float query[kPerLane], grad[kValuePerLane], acc[kPerLane];
    float rowDot = 0.0f;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      query[j] = d < kHeadDim ? lmc_load(q, (row * kHeads + head) * kHeadDim + d) : 0.0f;
      acc[j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      const i64 at = (row * kHeads + head) * kValueDim + d;
      grad[j] = d < kValueDim ? lmc_load(dout, at) : 0.0f;
      if (d < kValueDim) rowDot += grad[j] * lmc_load(out, at);
    }
    // D = rowsum(dO * O), which the dK/dV kernel reads from the scratch.
    rowDot = lmc_warp_sum(rowDot);
    if (lane == 0) rowDots[row * kHeads + head] = rowDot;
    const float rowLse = lse[row * kHeads + head];
    const int visible = kCausal ? min(position + 1, tile.keys) : tile.keys;
    for (int key = 0; key < visible; ++key) {
      const i64 keyRow = tile.keyRow + key;
      float score = 0.0f, dp = 0.0f;
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kHeadDim) score += query[j] * lmc_load(k, (keyRow * kKeyHeads + keyHead) * kHeadDim + d);
      }
#pragma unroll
      for (int j = 0; j < kValuePerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kValueDim) dp += grad[j] * lmc_load(v, (keyRow * kKeyHeads + keyHead) * kValueDim + d);
      }
      score = lmc_warp_sum(score);
      dp = lmc_warp_sum(dp);
      const float p = expf(score * kScale - rowLse);
      const float ds = kScale * p * (dp - rowDot);
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kHeadDim) acc[j] += ds * lmc_load(k, (keyRow * kKeyHeads + keyHead) * kHeadDim + d);
      }
    }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kHeadDim) lmc_store(dq, (row * kHeads + head) * kHeadDim + d, acc[j]);
    }
  }
}

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dkdv(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    const Element *__restrict__ out, const float *__restrict__ lse,
    const Element *__restrict__ dout, Element *__restrict__ dk, Element *__restrict__ dv,
    const float *__restrict__ rowDots, const LmcTile *__restrict__ tiles, const int tileCount) {
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int keyHead = blockIdx.y;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  for (int r = warp; r < tile.rows; r += kThreads / 32) {
    // Packed self-attention: the tile's query rows are the sequence's keys.
    const i64 keyRow = tile.queryRow + r;
    const int position = tile.queryPosition + r;
    float key[kPerLane], value[kValuePerLane], dkAcc[kPerLane], dvAcc[kValuePerLane];
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      key[j] = d < kHeadDim ? lmc_load(k, (keyRow * kKeyHeads + keyHead) * kHeadDim + d) : 0.0f;
      dkAcc[j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      value[j] = d < kValueDim ? lmc_load(v, (keyRow * kKeyHeads + keyHead) * kValueDim + d) : 0.0f;
      dvAcc[j] = 0.0f;
    }
    for (int head = keyHead * kGroup; head < (keyHead + 1) * kGroup; ++head)
      for (int query = kCausal ? position : 0; query < tile.keys; ++query) {
        const i64 row = tile.keyRow + query;
        float score = 0.0f, dp = 0.0f;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kHeadDim) score += key[j] * lmc_load(q, (row * kHeads + head) * kHeadDim + d);
        }
#pragma unroll
        for (int j = 0; j < kValuePerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kValueDim) dp += value[j] * lmc_load(dout, (row * kHeads + head) * kValueDim + d);
        }
        score = lmc_warp_sum(score);
        dp = lmc_warp_sum(dp);
        const float p = expf(score * kScale - lse[row * kHeads + head]);
        const float ds = kScale * p * (dp - rowDots[row * kHeads + head]);
#pragma unroll
        for (int j = 0; j < kValuePerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kValueDim) dvAcc[j] += p * lmc_load(dout, (row * kHeads + head) * kValueDim + d);
        }
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kHeadDim) dkAcc[j] += ds * lmc_load(q, (row * kHeads + head) * kHeadDim + d);
        }
      }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kHeadDim) lmc_store(dk, (keyRow * kKeyHeads + keyHead) * kHeadDim + d, dkAcc[j]);
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kValueDim) lmc_store(dv, (keyRow * kKeyHeads + keyHead) * kValueDim + d, dvAcc[j]);
    }
  }
}
)cuda";

} // namespace

bool emitAttentionGradKernel(const rt::Kernel &kernel, EmittedKernel &out, std::string &error) {
  const rt::Instruction &grad = kernel.body[0];
  auto fail = [&](const std::string &why) {
    error = "kernel '" + kernel.name + "' (lmc.attention_grad): " + why;
    return false;
  };
  if (kernel.body.size() != 1)
    return fail("an attention kernel holds one op");
  if (grad.operands[slot::attentionGradOperand::cuSeqlens] < 0)
    return fail("only the packed form (cu_seqlens) has a CUDA form; `lmc compile --train` "
                "packs sequences unless --packing=false");
  const rt::TensorType &query = localType(kernel, size_t(grad.operands[0]));
  const rt::TensorType &key = localType(kernel, size_t(grad.operands[1]));
  const rt::TensorType &value = localType(kernel, size_t(grad.operands[2]));
  int64_t heads = query.shape[1], keyHeads = key.shape[1];
  int64_t dim = query.shape[2], valueDim = value.shape[2];
  if (heads <= 0 || keyHeads <= 0 || heads % keyHeads || dim <= 0 || valueDim <= 0 ||
      dim > 256 || valueDim > 256)
    return fail("heads and head dimensions must be static, the query heads a multiple of the "
                "key heads, head dimensions at most 256");
  // The three results, as the kernel's locals, must all reach memory.
  int firstResult = int(kernel.arguments.size());
  for (int r = 0; r < 3; ++r)
    if (std::find(kernel.yields.begin(), kernel.yields.end(), firstResult + r) ==
        kernel.yields.end())
      return fail("every gradient must be a kernel result");
  // Tensor cores: a block is the forward's query tile (a warp per 16 rows);
  // it walks the other side in steps of kStep rows, smaller at head dim 128
  // so the two f32 accumulator tiles and two step tiles stay in registers.
  int blockQ = int(kernel.blockQ);
  bool tensorCores = tensorCoreShape(query.dtype, dim, valueDim) && blockQ % 16 == 0 &&
                     blockQ >= 16 && blockQ <= 128;
  int step = dim > 64 ? 32 : 64;
  int threads = tensorCores ? blockQ / 16 * 32 : 256;
  int sharedBytes = (2 * blockQ + 4 * step) * int(dim + 8) * 2;
  double scale = ::lmc::ops::attentionScale(grad.reals[slot::attention::scale], dim);
  const char *element = query.dtype == rt::DType::F16    ? "__half"
                        : query.dtype == rt::DType::BF16 ? "__nv_bfloat16"
                                                         : "float";
  std::string entry = kernel.name + "_attention_grad";
  std::ostringstream source;
  source << "// lmc attention kernel '" << kernel.name
         << "': lmc.attention_grad over packed sequences" << (grad.ints[slot::attention::causal] ? ", causal" : "")
         << "\n// Generated by lmc: FlashAttention-2's backward recomputing P from the "
            "log-sum-exp, "
         << (tensorCores ? "on tensor cores (mma.sync m16n8k16)" : "a warp per row") << ".\n\n"
         << kPrelude << kTileStruct << "\n"
         << "typedef " << element << " Element;\n"
         << "constexpr int kHeads = " << heads << ", kKeyHeads = " << keyHeads << ";\n"
         << "constexpr int kGroup = kHeads / kKeyHeads;\n"
         << "constexpr int kHeadDim = " << dim << ", kValueDim = " << valueDim << ";\n"
         << "constexpr int kThreads = " << threads << ";\n"
         << "constexpr bool kCausal = " << (grad.ints[slot::attention::causal] ? "true" : "false") << ";\n"
         << "constexpr float kScale = " << floatLiteral(scale) << ";\n";
  if (tensorCores) {
    source << "constexpr int kBlockQ = " << blockQ << ", kStep = " << step << ";\n"
           << "// softmax scale times log2(e): P is exponentiated in base 2\n"
           << "constexpr float kScaleLog2 = " << floatLiteral(scale * 1.4426950408889634)
           << ";\n"
           << "// shared-memory rows are padded by 8 elements: ldmatrix without bank conflicts\n"
           << "constexpr int kStride = kHeadDim + 8;\n"
           << "// cp.async and m16n8k16 need sm_80; older devices get the plain kernels\n"
           << "// (launched without shared memory) from the same source.\n"
           << "#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800\n"
           << tensorCoreHelpers(query.dtype) << kFragments << kTensorCoreKernels << "#else\n"
           << kPlainKernels << "#endif\n";
  } else {
    source << kPlainKernels;
    sharedBytes = 0;
  }
  out.source = source.str();
  for (size_t at = out.source.find("LMC_ENTRY"); at != std::string::npos;
       at = out.source.find("LMC_ENTRY", at))
    out.source.replace(at, 9, entry);
  using Kind = rt::LaunchArgKind;
  std::vector<rt::LaunchArg> inputs;
  // The tensors, in the order the entry points take them (ahead of the
  // sequence layout).
  for (size_t operand = 0; operand < slot::attentionGradOperand::lengths; ++operand)
    inputs.push_back({Kind::Pointer, grad.operands[operand], -1});
  rt::Launch dq{entry + "_dq", rt::LaunchPattern::AttentionTiles, firstResult, threads,
                blockQ, sharedBytes, inputs};
  dq.args.push_back({Kind::Pointer, firstResult, -1});
  dq.args.push_back({Kind::RowScratch, -1, -1});
  dq.args.push_back({Kind::Tiles, -1, -1});
  dq.args.push_back({Kind::TileCount, -1, -1});
  // One block per (tile, key head): the launch is sized by dK's heads. It
  // runs after dQ's, whose D it reads.
  rt::Launch dkdv{entry + "_dkdv", rt::LaunchPattern::AttentionTiles, firstResult + 1, threads,
                  blockQ, sharedBytes + (tensorCores ? 4 * step * 4 : 0), inputs};
  dkdv.args.push_back({Kind::Pointer, firstResult + 1, -1});
  dkdv.args.push_back({Kind::Pointer, firstResult + 2, -1});
  dkdv.args.push_back({Kind::RowScratch, -1, -1});
  dkdv.args.push_back({Kind::Tiles, -1, -1});
  dkdv.args.push_back({Kind::TileCount, -1, -1});
  out.launches = {std::move(dq), std::move(dkdv)};
  return true;
}

} // namespace mlir::lmc::cuda
