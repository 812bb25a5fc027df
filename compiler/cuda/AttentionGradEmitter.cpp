//===- AttentionGradEmitter.cpp - lmc.attention_grad on the GPU -----------===//
//
// FlashAttention-2's backward over packed sequences, as two kernels over the
// forward's tile list (one block per query tile and head, so no block
// exists outside a sequence):
//   * dQ: a warp per query row walks the keys it sees and accumulates
//     dq += scale * P (dP - rowsum(dO * O)) k, with P = exp(scale q.k - lse)
//     recomputed from the forward's log-sum-exp;
//   * dK, dV: the tile's rows taken as key rows (keys and queries are the
//     same tokens of a packed sequence), a warp per key row walks the query
//     rows that see it, for every query head reading its key head, and
//     accumulates dv += P dO and dk += scale * P (dP - rowsum(dO * O)) q.
// No [S, S] matrix exists and no atomics are needed: each warp owns the
// rows it writes. These are plain kernels (f32, warp dot products), written
// for correctness first: no tensor cores, no shared-memory tiling yet.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/AttentionTile.h"
#include "compiler/cuda/CudaPrelude.h"
#include "compiler/cuda/KernelEmitter.h"

#include <cmath>
#include <sstream>

namespace mlir::lmc::cuda {
namespace {

namespace rt = ::lmc::rt;

constexpr const char *kGradKernels = R"cuda(
constexpr int kPerLane = (kHeadDim + 31) / 32, kValuePerLane = (kValueDim + 31) / 32;
constexpr int kGroup = kHeads / kKeyHeads;

// rowsum(dO * O) of query row `row`, head `head`, summed over the warp.
__device__ __forceinline__ float lmc_row_dot(const float *__restrict__ dout,
                                             const float *__restrict__ out, i64 row, int head,
                                             int lane) {
  float dot = 0.0f;
  for (int d = lane; d < kValueDim; d += 32)
    dot += dout[(row * kHeads + head) * kValueDim + d] * out[(row * kHeads + head) * kValueDim + d];
  return lmc_warp_sum(dot);
}

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dq(
    const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,
    const float *__restrict__ out, const float *__restrict__ lse,
    const float *__restrict__ dout, float *__restrict__ dq,
    const LmcTile *__restrict__ tiles, const int tileCount) {
  if (blockIdx.x >= tileCount) return;
  const LmcTile tile = tiles[blockIdx.x];
  const int head = blockIdx.y, keyHead = head / kGroup;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  for (int r = warp; r < tile.rows; r += kThreads / 32) {
    const i64 row = tile.queryRow + r;
    const int position = tile.queryPosition + r;
    float query[kPerLane], grad[kValuePerLane], acc[kPerLane];
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      query[j] = d < kHeadDim ? q[(row * kHeads + head) * kHeadDim + d] : 0.0f;
      acc[j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      grad[j] = d < kValueDim ? dout[(row * kHeads + head) * kValueDim + d] : 0.0f;
    }
    const float rowDot = lmc_row_dot(dout, out, row, head, lane);
    const float rowLse = lse[row * kHeads + head];
    const int visible = kCausal ? min(position + 1, tile.keys) : tile.keys;
    for (int key = 0; key < visible; ++key) {
      const i64 keyRow = tile.keyRow + key;
      float score = 0.0f, dp = 0.0f;
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kHeadDim) score += query[j] * k[(keyRow * kKeyHeads + keyHead) * kHeadDim + d];
      }
#pragma unroll
      for (int j = 0; j < kValuePerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kValueDim) dp += grad[j] * v[(keyRow * kKeyHeads + keyHead) * kValueDim + d];
      }
      score = lmc_warp_sum(score);
      dp = lmc_warp_sum(dp);
      const float p = expf(score * kScale - rowLse);
      const float ds = kScale * p * (dp - rowDot);
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < kHeadDim) acc[j] += ds * k[(keyRow * kKeyHeads + keyHead) * kHeadDim + d];
      }
    }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kHeadDim) dq[(row * kHeads + head) * kHeadDim + d] = acc[j];
    }
  }
}

extern "C" __global__ void __launch_bounds__(kThreads) LMC_ENTRY_dkdv(
    const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,
    const float *__restrict__ out, const float *__restrict__ lse,
    const float *__restrict__ dout, float *__restrict__ dk, float *__restrict__ dv,
    const LmcTile *__restrict__ tiles, const int tileCount) {
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
      key[j] = d < kHeadDim ? k[(keyRow * kKeyHeads + keyHead) * kHeadDim + d] : 0.0f;
      dkAcc[j] = 0.0f;
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      value[j] = d < kValueDim ? v[(keyRow * kKeyHeads + keyHead) * kValueDim + d] : 0.0f;
      dvAcc[j] = 0.0f;
    }
    for (int head = keyHead * kGroup; head < (keyHead + 1) * kGroup; ++head)
      for (int query = kCausal ? position : 0; query < tile.keys; ++query) {
        const i64 row = tile.keyRow + query;
        float score = 0.0f, dp = 0.0f;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kHeadDim) score += key[j] * q[(row * kHeads + head) * kHeadDim + d];
        }
#pragma unroll
        for (int j = 0; j < kValuePerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kValueDim) dp += value[j] * dout[(row * kHeads + head) * kValueDim + d];
        }
        score = lmc_warp_sum(score);
        dp = lmc_warp_sum(dp);
        const float p = expf(score * kScale - lse[row * kHeads + head]);
        const float ds = kScale * p * (dp - lmc_row_dot(dout, out, row, head, lane));
#pragma unroll
        for (int j = 0; j < kValuePerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kValueDim) dvAcc[j] += p * dout[(row * kHeads + head) * kValueDim + d];
        }
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
          const int d = lane + 32 * j;
          if (d < kHeadDim) dkAcc[j] += ds * q[(row * kHeads + head) * kHeadDim + d];
        }
      }
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kHeadDim) dk[(keyRow * kKeyHeads + keyHead) * kHeadDim + d] = dkAcc[j];
    }
#pragma unroll
    for (int j = 0; j < kValuePerLane; ++j) {
      const int d = lane + 32 * j;
      if (d < kValueDim) dv[(keyRow * kKeyHeads + keyHead) * kValueDim + d] = dvAcc[j];
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
  if (grad.operands[6] < 0)
    return fail("only the packed form (cu_seqlens) has a CUDA form; `lmc compile --train` "
                "packs sequences unless --packing=false");
  const rt::TensorType &query = localType(kernel, size_t(grad.operands[0]));
  const rt::TensorType &key = localType(kernel, size_t(grad.operands[1]));
  const rt::TensorType &value = localType(kernel, size_t(grad.operands[2]));
  if (query.dtype != rt::DType::F32)
    return fail("only f32 has a CUDA form (mixed precision keeps the backward in f32)");
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
  const int threads = 256;
  double scale = std::isnan(grad.reals[0]) ? 1.0 / std::sqrt(double(dim)) : grad.reals[0];
  std::string entry = kernel.name + "_attention_grad";
  std::ostringstream source;
  source << "// lmc attention kernel '" << kernel.name
         << "': lmc.attention_grad over packed sequences" << (grad.ints[0] ? ", causal" : "")
         << "\n// Generated by lmc: FlashAttention-2's backward recomputing P from the "
            "log-sum-exp, a warp per row.\n\n"
         << kPrelude << kTileStruct << "\n"
         << "constexpr int kHeads = " << heads << ", kKeyHeads = " << keyHeads << ";\n"
         << "constexpr int kHeadDim = " << dim << ", kValueDim = " << valueDim << ";\n"
         << "constexpr int kThreads = " << threads << ";\n"
         << "constexpr bool kCausal = " << (grad.ints[0] ? "true" : "false") << ";\n"
         << "constexpr float kScale = " << floatLiteral(scale) << ";\n"
         << kGradKernels;
  out.source = source.str();
  for (size_t at = out.source.find("LMC_ENTRY"); at != std::string::npos;
       at = out.source.find("LMC_ENTRY", at))
    out.source.replace(at, 9, entry);
  using Kind = rt::LaunchArgKind;
  std::vector<rt::LaunchArg> inputs;
  for (int operand = 0; operand < 6; ++operand)
    inputs.push_back({Kind::Pointer, grad.operands[size_t(operand)], -1});
  rt::Launch dq{entry + "_dq", rt::LaunchPattern::AttentionTiles, firstResult, threads,
                int(kernel.blockQ), 0, inputs};
  dq.args.push_back({Kind::Pointer, firstResult, -1});
  dq.args.push_back({Kind::Tiles, -1, -1});
  dq.args.push_back({Kind::TileCount, -1, -1});
  // One block per (tile, key head): the launch is sized by dK's heads.
  rt::Launch dkdv{entry + "_dkdv", rt::LaunchPattern::AttentionTiles, firstResult + 1, threads,
                  int(kernel.blockQ), 0, inputs};
  dkdv.args.push_back({Kind::Pointer, firstResult + 1, -1});
  dkdv.args.push_back({Kind::Pointer, firstResult + 2, -1});
  dkdv.args.push_back({Kind::Tiles, -1, -1});
  dkdv.args.push_back({Kind::TileCount, -1, -1});
  out.launches = {std::move(dq), std::move(dkdv)};
  return true;
}

} // namespace mlir::lmc::cuda
