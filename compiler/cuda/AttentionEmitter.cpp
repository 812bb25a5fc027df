//===- AttentionEmitter.cpp - FlashAttention-2 for lmc.attention ----------===//
//
// One thread block per (query tile, head); the host lists the query tiles
// of every sequence (from cu_seqlens, or from lengths for a padded batch),
// longest sequences first, so no block exists for a tile outside a sequence
// and a packed batch does no work on padding. Each warp owns 16 query rows:
// Q stays in registers as mma fragments, K and V tiles stream through shared
// memory with cp.async (two stages), S = Q K^T and O += P V run on tensor
// cores (mma.sync m16n8k16, f32 accumulation), and the online softmax keeps
// a running max and sum per row in f32. Causal tiles stop at the last key
// their rows can see; only boundary tiles pay for masking. The log-sum-exp
// of every row is written for the backward pass.
//
// f32 attention, and head dimensions the tensor-core kernel does not take,
// get a plain kernel over the same tile list (a warp per query row).
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
using rt::DType;

constexpr const char *kTensorCoreKernel = R"cuda(
extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    Element *__restrict__ out, float *__restrict__ lse, const LmcTile *__restrict__ tiles,
    const int tileCount) {
  extern __shared__ __align__(16) unsigned char lmc_shared[];
  Element *sq = reinterpret_cast<Element *>(lmc_shared);  // [kBlockQ][kStride]
  Element *sk = sq + kBlockQ * kStride;                   // [2][kBlockK][kStride]
  Element *sv = sk + 2 * kBlockK * kStride;               // [2][kBlockK][kStride]
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y, keyHead = head / (kHeads / kKeyHeads);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int group = lane >> 2, quad = lane & 3;
  const i64 queryStride = (i64)kHeads * kHeadDim, keyStride = (i64)kKeyHeads * kHeadDim;
  const Element *qBase = q + (i64)tile.queryRow * queryStride + head * kHeadDim;
  const Element *kBase = k + (i64)tile.keyRow * keyStride + keyHead * kHeadDim;
  const Element *vBase = v + (i64)tile.keyRow * keyStride + keyHead * kHeadDim;

  // Keys the tile sees: its sequence's, or (causal) up to its last row.
  int keyEnd = tile.keys;
  if (kCausal) keyEnd = min(keyEnd, tile.queryPosition + tile.rows);
  const int keyTiles = (keyEnd + kBlockK - 1) / kBlockK;

  constexpr int kChunks = kHeadDim / 8; // 16-byte chunks per row
  for (int c = threadIdx.x; c < kBlockQ * kChunks; c += kThreads) {
    const int r = c / kChunks, col = (c % kChunks) * 8;
    const bool valid = r < tile.rows;
    lmc_copy16(sq + r * kStride + col, qBase + (valid ? r : 0) * queryStride + col, valid);
  }
  lmc_commit();
  auto loadKeys = [&](int keyTile, int stage) {
    const int first = keyTile * kBlockK;
    for (int c = threadIdx.x; c < kBlockK * kChunks; c += kThreads) {
      const int r = c / kChunks, col = (c % kChunks) * 8;
      const bool valid = first + r < keyEnd;
      const i64 row = valid ? first + r : 0;
      lmc_copy16(sk + (stage * kBlockK + r) * kStride + col, kBase + row * keyStride + col, valid);
      lmc_copy16(sv + (stage * kBlockK + r) * kStride + col, vBase + row * keyStride + col, valid);
    }
  };
  if (keyTiles > 0) loadKeys(0, 0);
  lmc_commit();
  lmc_wait_all_but_one(); // Q has landed
  __syncthreads();

  unsigned qf[kHeadDim / 16][4];
#pragma unroll
  for (int kk = 0; kk < kHeadDim / 16; ++kk)
    lmc_ldmatrix(qf[kk], sq + (warp * 16 + (lane & 15)) * kStride + kk * 16 + (lane >> 4) * 8);

  float o[kHeadDim / 8][4];
#pragma unroll
  for (int d = 0; d < kHeadDim / 8; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;
  float rowMax[2] = {-__int_as_float(0x7f800000), -__int_as_float(0x7f800000)};
  float rowSum[2] = {0.0f, 0.0f}; // this thread's share; summed over the quad at the end
  const int firstRow = warp * 16 + group; // this thread's rows: firstRow, firstRow + 8

  for (int j = 0; j < keyTiles; ++j) {
    const int stage = j & 1;
    if (j + 1 < keyTiles) loadKeys(j + 1, stage ^ 1);
    lmc_commit();
    lmc_wait_all_but_one(); // tile j has landed
    __syncthreads();
    const Element *ks = sk + stage * kBlockK * kStride, *vs = sv + stage * kBlockK * kStride;

    // S = Q K^T for this warp's 16 rows.
    float s[kBlockK / 8][4];
#pragma unroll
    for (int n = 0; n < kBlockK / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk)
#pragma unroll
      for (int n = 0; n < kBlockK / 16; ++n) {
        unsigned b[4];
        lmc_ldmatrix(b, ks + (n * 16 + (lane & 7) + ((lane >> 4) << 3)) * kStride + kk * 16 +
                            ((lane >> 3) & 1) * 8);
        lmc_mma(s[2 * n], qf[kk], b[0], b[1]);
        lmc_mma(s[2 * n + 1], qf[kk], b[2], b[3]);
      }

    // Scale into base 2; mask keys past the sequence and, causal, the future.
    const int keyStart = j * kBlockK;
    const bool boundary = keyStart + kBlockK > tile.keys ||
                          (kCausal && keyStart + kBlockK > tile.queryPosition + warp * 16 + 1);
#pragma unroll
    for (int n = 0; n < kBlockK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float value = s[n][e] * kScaleLog2;
        if (boundary) {
          const int key = keyStart + n * 8 + quad * 2 + (e & 1);
          const int position = tile.queryPosition + firstRow + (e >> 1) * 8;
          if (key >= tile.keys || (kCausal && key > position)) value = -__int_as_float(0x7f800000);
        }
        s[n][e] = value;
      }

    // Online softmax: new running max, rescale what came before.
    float reference[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float tileMax = -__int_as_float(0x7f800000);
#pragma unroll
      for (int n = 0; n < kBlockK / 8; ++n)
        tileMax = fmaxf(tileMax, fmaxf(s[n][2 * i], s[n][2 * i + 1]));
      tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
      tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 2));
      const float newMax = fmaxf(rowMax[i], tileMax);
      // A row that has seen no key yet keeps -inf; 0 avoids inf - inf.
      reference[i] = newMax == -__int_as_float(0x7f800000) ? 0.0f : newMax;
      const float correction = lmc_exp2(rowMax[i] - reference[i]);
      rowMax[i] = newMax;
      rowSum[i] *= correction;
#pragma unroll
      for (int d = 0; d < kHeadDim / 8; ++d) {
        o[d][2 * i] *= correction;
        o[d][2 * i + 1] *= correction;
      }
    }
#pragma unroll
    for (int n = 0; n < kBlockK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[n][e] = lmc_exp2(s[n][e] - reference[e >> 1]);
        rowSum[e >> 1] += s[n][e];
      }

    // O += P V: P's accumulator layout is the A operand's layout.
#pragma unroll
    for (int kk = 0; kk < kBlockK / 16; ++kk) {
      unsigned p[4] = {lmc_pack(s[2 * kk][0], s[2 * kk][1]), lmc_pack(s[2 * kk][2], s[2 * kk][3]),
                       lmc_pack(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                       lmc_pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int d = 0; d < kHeadDim / 16; ++d) {
        unsigned b[4];
        lmc_ldmatrix_trans(b, vs + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kStride +
                                  d * 16 + (lane >> 4) * 8);
        lmc_mma(o[2 * d], p, b[0], b[1]);
        lmc_mma(o[2 * d + 1], p, b[2], b[3]);
      }
    }
    __syncthreads(); // every warp is done with this stage before it is refilled
  }

  // Normalize, store the rows of the tile, and keep the log-sum-exp.
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    rowSum[i] += __shfl_xor_sync(0xffffffffu, rowSum[i], 1);
    rowSum[i] += __shfl_xor_sync(0xffffffffu, rowSum[i], 2);
    const int row = firstRow + i * 8;
    if (row >= tile.rows) continue;
    const float inverse = rowSum[i] > 0.0f ? 1.0f / rowSum[i] : 0.0f;
    Element *target = out + (i64)(tile.queryRow + row) * queryStride + head * kHeadDim;
#pragma unroll
    for (int d = 0; d < kHeadDim / 8; ++d)
      *reinterpret_cast<unsigned *>(target + d * 8 + quad * 2) =
          lmc_pack(o[d][2 * i] * inverse, o[d][2 * i + 1] * inverse);
    if (quad == 0)
      lse[(i64)(tile.queryRow + row) * kHeads + head] =
          rowSum[i] > 0.0f ? (rowMax[i] + __log2f(rowSum[i])) * 0.6931471806f
                           : -__int_as_float(0x7f800000);
  }
}
)cuda";

constexpr const char *kPlainKernel = R"cuda(
extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY(
    const Element *__restrict__ q, const Element *__restrict__ k, const Element *__restrict__ v,
    Element *__restrict__ out, float *__restrict__ lse, const LmcTile *__restrict__ tiles,
    const int tileCount) {
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y, keyHead = head / (kHeads / kKeyHeads);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  constexpr int kPerLane = (kHeadDim + 31) / 32, kValuePerLane = (kValueDim + 31) / 32;
  for (int row = warp; row < tile.rows; row += kThreads / 32) {
    const i64 queryRow = tile.queryRow + row;
    float query[kPerLane], acc[kValuePerLane];
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      query[j] = d < kHeadDim ? lmc_load(q, (queryRow * kHeads + head) * kHeadDim + d) * kScaleLog2 : 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) acc[j] = 0.0f;
    float rowMax = -__int_as_float(0x7f800000), rowSum = 0.0f;
    int keyEnd = tile.keys;
    if (kCausal) keyEnd = min(keyEnd, tile.queryPosition + row + 1);
    for (int key = 0; key < keyEnd; ++key) {
      const i64 keyRow = (i64)tile.keyRow + key;
      float dot = 0.0f;
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kHeadDim) dot += query[j] * lmc_load(k, (keyRow * kKeyHeads + keyHead) * kHeadDim + d);
      }
      dot = lmc_warp_sum(dot);
      const float newMax = fmaxf(rowMax, dot);
      const float correction = exp2f(rowMax - newMax), weight = exp2f(dot - newMax);
      rowMax = newMax;
      rowSum = rowSum * correction + weight;
#pragma unroll
      for (int j = 0; j < kValuePerLane; ++j) {
        const int d = lane + 32 * j;
        const float value = d < kValueDim ? lmc_load(v, (keyRow * kKeyHeads + keyHead) * kValueDim + d) : 0.0f;
        acc[j] = acc[j] * correction + weight * value;
      }
    }
    const float inverse = rowSum > 0.0f ? 1.0f / rowSum : 0.0f;
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kValueDim) lmc_store(out, (queryRow * kHeads + head) * kValueDim + d, acc[j] * inverse);
    }
    if (lane == 0)
      lse[queryRow * kHeads + head] = rowSum > 0.0f ? (rowMax + log2f(rowSum)) * 0.6931471806f
                                                    : -__int_as_float(0x7f800000);
  }
}
)cuda";

} // namespace

bool emitAttentionKernel(const rt::Kernel &kernel, EmittedKernel &out, std::string &error) {
  if (kernel.body.size() != 1 || kernel.body[0].opcode != rt::Opcode::Attention ||
      kernel.yields.size() != kernel.body[0].results.size()) {
    error = "kernel '" + kernel.name + "' is an attention kernel without one lmc.attention";
    return false;
  }
  const rt::Instruction &attention = kernel.body[0];
  const rt::TensorType &query = localType(kernel, size_t(attention.operands[0]));
  const rt::TensorType &key = localType(kernel, size_t(attention.operands[1]));
  const rt::TensorType &value = localType(kernel, size_t(attention.operands[2]));
  size_t rank = query.shape.size();
  if (rank < 3 || key.shape.size() != rank || value.shape.size() != rank) {
    error = "kernel '" + kernel.name + "': query, key and value must share a rank of 3 or 4";
    return false;
  }
  int64_t heads = query.shape[rank - 2], keyHeads = key.shape[rank - 2];
  int64_t dim = query.shape[rank - 1], valueDim = value.shape[rank - 1];
  if (heads <= 0 || keyHeads <= 0 || heads % keyHeads || dim <= 0 || valueDim <= 0 ||
      key.shape[rank - 1] != dim || dim > 256 || valueDim > 256) {
    error = "kernel '" + kernel.name + "': heads and head dimensions must be static, the " +
            "query heads a multiple of the key heads, head dimensions at most 256";
    return false;
  }
  DType dtype = query.dtype;
  bool tensorCores = tensorCoreShape(dtype, dim, valueDim) && kernel.blockQ % 16 == 0 &&
                     kernel.blockQ <= 128 && kernel.blockK % 16 == 0 && kernel.blockK <= 128;
  int blockQ = kernel.blockQ, blockK = kernel.blockK;
  int threads = tensorCores ? blockQ / 16 * 32 : 256;
  double scale = ::lmc::ops::attentionScale(attention.reals[slot::attention::scale], dim);
  const char *element = dtype == DType::F16 ? "__half" : dtype == DType::BF16 ? "__nv_bfloat16" : "float";
  std::string entry = kernel.name + "_attention";

  std::ostringstream source;
  source << "// lmc attention kernel '" << kernel.name << "': lmc.attention over "
         << (attention.operands[slot::attentionOperand::cuSeqlens] >= 0 ? "packed sequences (cu_seqlens)" : "a padded batch")
         << (attention.ints[slot::attention::causal] ? ", causal" : "") << "\n// Generated by lmc: "
         << (tensorCores ? "FlashAttention-2 on tensor cores (mma.sync m16n8k16)"
                         : "one warp per query row (no tensor-core form for this type or shape)")
         << ".\n\n"
         << kPrelude << kTileStruct << "\n"
         << "typedef " << element << " Element;\n"
         << "constexpr int kHeads = " << heads << ", kKeyHeads = " << keyHeads << ";\n"
         << "constexpr int kHeadDim = " << dim << ", kValueDim = " << valueDim << ";\n"
         << "constexpr int kBlockQ = " << blockQ << ", kBlockK = " << blockK << ";\n"
         << "constexpr int kThreads = " << threads << ";\n"
         << "constexpr bool kCausal = " << (attention.ints[slot::attention::causal] ? "true" : "false") << ";\n"
         << "// softmax scale times log2(e): scores are exponentiated in base 2\n"
         << "constexpr float kScaleLog2 = " << floatLiteral(scale * 1.4426950408889634) << ";\n";
  int sharedBytes = 0;
  if (tensorCores) {
    source << "// shared-memory rows are padded by 8 elements: ldmatrix without bank conflicts\n"
           << "constexpr int kStride = kHeadDim + 8;\n"
           << "// cp.async and m16n8k16 need sm_80; older devices get the plain kernel\n"
           << "// (launched without shared memory) from the same source.\n"
           << "#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800\n"
           << tensorCoreHelpers(dtype) << kTensorCoreKernel << "#else\n" << kPlainKernel
           << "#endif\n";
    sharedBytes = (blockQ + 4 * blockK) * int(dim + 8) * 2;
  } else {
    source << kPlainKernel;
  }
  out.source = source.str();
  // The kernel texts name their entry point LMC_ENTRY: it becomes the name.
  for (size_t at = out.source.find("LMC_ENTRY"); at != std::string::npos;
       at = out.source.find("LMC_ENTRY", at))
    out.source.replace(at, 9, entry);
  rt::Launch launch{entry, rt::LaunchPattern::AttentionTiles, kernel.yields[0], threads,
                    blockQ, sharedBytes, {}};
  using Kind = rt::LaunchArgKind;
  // The log-sum-exp goes to the op's second result when the backward pass
  // reads it, else to the backend's scratch.
  int firstResult = int(kernel.arguments.size());
  rt::LaunchArg lse = attention.results.size() > 1 ? rt::LaunchArg{Kind::Pointer, firstResult + 1, -1}
                                                   : rt::LaunchArg{Kind::RowScratch, -1, -1};
  launch.value = firstResult;
  launch.args = {{Kind::Pointer, attention.operands[0], -1}, {Kind::Pointer, attention.operands[1], -1},
                 {Kind::Pointer, attention.operands[2], -1}, {Kind::Pointer, firstResult, -1},
                 lse, {Kind::Tiles, -1, -1}, {Kind::TileCount, -1, -1}};
  out.launches = {std::move(launch)};
  return true;
}

} // namespace mlir::lmc::cuda
