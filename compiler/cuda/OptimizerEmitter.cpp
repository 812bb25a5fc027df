//===- OptimizerEmitter.cpp - lmc.adamw_rows as CUDA C --------------------===//
//
// An optimizer kernel holds one lmc.adamw_rows: the lazy AdamW update of the
// rows of an embedding table a step touched, on the rank's shard of the
// flattened table and moments (the CPU backend's OpsOptimizer.cpp is the
// reference). Three entry points, in order on the stream:
//   copy  - the results start as the table and moments (one thread per
//           element of the shard; skipped when all three are in place);
//   chain - one thread per gradient row finds whether its id occurs earlier
//           and where it occurs next, the ids streaming through shared
//           memory in tiles (quadratic in a step's rows, but comparisons in
//           shared memory); the answer goes to the launch's row scratch;
//   rows  - one thread per element of the gradient rows; the thread of an
//           id's first occurrence follows the chain, summing the rows of
//           every later occurrence in order (so a row is updated once, with
//           no atomics, and the sum is the CPU's), and updates the element
//           when it lies in the shard.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/CudaPrelude.h"
#include "compiler/cuda/KernelEmitter.h"

#include <sstream>

namespace mlir::lmc::cuda {
namespace rt = ::lmc::rt;

namespace {

/// Threads (and ids per shared-memory tile) of the chain entry point.
constexpr int kChainThreads = 256;

constexpr const char *kOptimizerKernels = R"cuda(
extern "C" __global__ void LMC_ENTRY_copy(const float *table, const float *m, const float *v,
                                          float *table_out, float *m_out, float *v_out, i64 n) {
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    table_out[i] = table[i];
    m_out[i] = m[i];
    v_out[i] = v[i];
  }
}

// chain[k] = (next + 1) * 2 + first: `next` the next row with row k's id
// (-1: none), `first` whether no earlier row has it.
extern "C" __global__ void __launch_bounds__(kChainThreads) LMC_ENTRY_chain(
    const LmcId *ids, const unsigned char *apply, int *chain, LMC_ROW_EXTENTS) {
  extern __shared__ __align__(16) unsigned char lmc_shared[];
  LmcId *tile = reinterpret_cast<LmcId *>(lmc_shared); // [kChainThreads]
  const i64 count = LMC_ROW_COUNT;
  if (!apply[0])
    return; // a gradient was not finite: the step changes nothing
  // The block's rows move together (a block-wide loop) so that every thread
  // helps load each tile.
  for (i64 base = (i64)blockIdx.x * kChainThreads; base < count;
       base += (i64)gridDim.x * kChainThreads) {
    const i64 k = base + threadIdx.x;
    const LmcId id = k < count ? ids[k] : 0;
    bool first = true;
    i64 next = -1;
    for (i64 start = 0; start < count; start += kChainThreads) {
      __syncthreads(); // the previous tile is no longer read
      if (start + threadIdx.x < count) tile[threadIdx.x] = ids[start + threadIdx.x];
      __syncthreads();
      const int loaded = (int)min((i64)kChainThreads, count - start);
      for (int j = 0; j < loaded; ++j)
        if (tile[j] == id) {
          const i64 at = start + j;
          if (at < k) first = false;
          else if (at > k && next < 0) next = at;
        }
    }
    if (k < count) chain[k] = (int)((next + 1) * 2 + (first ? 1 : 0));
  }
}

extern "C" __global__ void LMC_ENTRY_rows(const LmcId *ids, const float *rows, const float *step,
                                          const unsigned char *apply LMC_RANK_PARAMETER,
                                          const int *chain, float *table, float *m, float *v,
                                          LMC_ROW_EXTENTS) {
  const i64 count = LMC_ROW_COUNT;
  if (!apply[0])
    return; // a gradient was not finite: the step changes nothing
  const i64 begin = min(kTableRows * kWidth, (i64)LMC_RANK * kShard);
  const i64 end = min(kTableRows * kWidth, begin + kShard);
  const float rate = step[0], step_size = step[0] * step[1], root_correction2 = step[2];
  const float unscale = step[3], decay = 1.0f - rate * kWeightDecay;
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < count * kWidth;
       i += (i64)gridDim.x * blockDim.x) {
    const i64 k = i / kWidth, d = i % kWidth;
    const i64 id = (i64)ids[k];
    const i64 e = id * kWidth + d;
    if (id < 0 || id >= kTableRows || e < begin || e >= end || !(chain[k] & 1))
      continue; // outside the table (the forward read zeros) or the shard, or not first
    float g = 0.0f;
    for (i64 j = k; j >= 0; j = (chain[j] >> 1) - 1)
      g += rows[j * kWidth + d];
    g *= unscale;
    const i64 at = e - begin;
    const float m1 = kBeta1 * m[at] + (1.0f - kBeta1) * g;
    const float v1 = kBeta2 * v[at] + (1.0f - kBeta2) * g * g;
    m[at] = m1;
    v[at] = v1;
    table[at] = table[at] * decay - step_size * m1 / (sqrtf(v1) * root_correction2 + kEpsilon);
  }
}
)cuda";

void replaceAll(std::string &text, const std::string &from, const std::string &to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

} // namespace

bool emitOptimizerKernel(const rt::Kernel &kernel, EmittedKernel &out, std::string &error) {
  auto fail = [&](const std::string &message) {
    error = "kernel '" + kernel.name + "': " + message;
    return false;
  };
  if (kernel.body.size() != 1 || kernel.body[0].opcode != rt::Opcode::AdamwRows)
    return fail("an optimizer kernel holds one lmc.adamw_rows");
  const rt::Instruction &op = kernel.body[0];
  const rt::TensorType &rows = kernel.arguments[4];
  const rt::TensorType &ids = kernel.arguments[3];
  // m is the flat shard; the table may be [table_rows, W] (one rank).
  int64_t width = rows.shape.back(), shard = kernel.arguments[1].shape[0];
  bool hasRank = op.operands[7] >= 0;

  std::ostringstream extents, count;
  for (size_t d = 0; d + 1 < rows.shape.size(); ++d) {
    extents << (d ? ", " : "") << "i64 rows_extent" << d;
    count << (d ? " * " : "") << "rows_extent" << d;
  }
  std::ostringstream source;
  source << "// lmc optimizer kernel '" << kernel.name
         << "': lmc.adamw_rows, the lazy AdamW update of a table's touched rows\n\n"
         << kPrelude << "\n"
         << "typedef " << (ids.dtype == rt::DType::I64 ? "i64" : "int") << " LmcId;\n"
         << "constexpr i64 kWidth = " << width << ", kTableRows = " << op.ints[slot::adamwRows::tableRows]
         << ", kShard = " << shard << ";\n"
         << "constexpr float kBeta1 = " << floatLiteral(op.reals[slot::adamwRows::beta1])
         << ", kBeta2 = " << floatLiteral(op.reals[slot::adamwRows::beta2])
         << ", kEpsilon = " << floatLiteral(op.reals[slot::adamwRows::epsilon])
         << ", kWeightDecay = " << floatLiteral(op.reals[slot::adamwRows::weightDecay]) << ";\n"
         << "constexpr int kChainThreads = " << kChainThreads << ";\n"
         << kOptimizerKernels;
  out.source = source.str();
  std::string entry = kernel.name + "_adamw_rows";
  replaceAll(out.source, "LMC_ENTRY", entry);
  replaceAll(out.source, "LMC_ROW_EXTENTS", extents.str().empty() ? "i64 unused" : extents.str());
  replaceAll(out.source, "LMC_ROW_COUNT", count.str().empty() ? "1" : count.str());
  // One rank has no rank operand: it updates the whole table.
  replaceAll(out.source, "LMC_RANK_PARAMETER", hasRank ? ", const i64 *rank" : "");
  replaceAll(out.source, "LMC_RANK", hasRank ? "rank[0]" : "0");

  using Kind = rt::LaunchArgKind;
  int firstResult = int(kernel.arguments.size()), newM = firstResult + 1;
  const int threads = 256, perBlock = 1024;
  rt::Launch copy{entry + "_copy", rt::LaunchPattern::Elements, newM, threads, perBlock, 0, {}};
  for (int value : {0, 1, 2, firstResult, firstResult + 1, firstResult + 2})
    copy.args.push_back({Kind::Pointer, value, -1});
  copy.args.push_back({Kind::Extent, newM, 0});
  auto rowExtents = [&](rt::Launch &launch) {
    if (rows.shape.size() == 1)
      launch.args.push_back({Kind::Extent, 4, 0});
    for (size_t d = 0; d + 1 < rows.shape.size(); ++d)
      launch.args.push_back({Kind::Extent, 4, int(d)});
  };
  // A thread per id (the grid is sized by the ids, value 3).
  int idBytes = ids.dtype == rt::DType::I64 ? 8 : 4;
  rt::Launch chain{entry + "_chain", rt::LaunchPattern::Elements, 3, kChainThreads,
                   kChainThreads, kChainThreads * idBytes, {}};
  chain.args = {{Kind::Pointer, 3, -1}, {Kind::Pointer, 6, -1}, {Kind::RowScratch, -1, -1}};
  rowExtents(chain);
  rt::Launch update{entry + "_rows", rt::LaunchPattern::Elements, 4, threads, perBlock, 0, {}};
  for (int value : {3, 4, 5, 6})
    update.args.push_back({Kind::Pointer, value, -1});
  if (hasRank)
    update.args.push_back({Kind::Pointer, 7, -1});
  update.args.push_back({Kind::RowScratch, -1, -1});
  for (int value : {firstResult, firstResult + 1, firstResult + 2})
    update.args.push_back({Kind::Pointer, value, -1});
  rowExtents(update);
  out.launches = {std::move(copy), std::move(chain), std::move(update)};
  return true;
}

} // namespace mlir::lmc::cuda
