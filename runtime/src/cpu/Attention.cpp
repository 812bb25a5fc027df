// Attention.cpp - lmc.attention as tiled online softmax (FlashAttention's
// algorithm) on the CPU.
//
// Each sequence is cut into tiles of kQueryRows query rows and kKeyBlock key
// rows. A query tile walks its own sequence's key blocks only -- tiles never
// cross a sequence boundary, so a packed batch does no work on other
// sequences' tokens, and a causal tile stops at its last row's position --
// and keeps a running max, sum and output per row: no score matrix larger
// than one tile exists. Work items (sequence, head, query tile) run on the
// team's threads (cpu/ThreadPool.h), heaviest first.
//
// The tile sizes are the CPU's own (the plan's block_q and block_k are the
// GPU's shared-memory tiles): 64 scaled query rows (16 KiB at head dim 64)
// stay in L1, and a key block of 256 rows keeps K, V and the scores (64 KiB
// each at head dim 64) in L2.
//
// Two ways to compute a tile's products, picked per call:
// - tiled (AVX-512 or AVX2+FMA, head dims a multiple of 16): K is packed
//   transposed once per call, per key head and block, and S = Q K^T and
//   O += P V run as register-blocked loops (cpu/AttentionTiles.h);
// - BLAS (the baseline, any head dim): both products are sgemm calls, which
//   repack K and V for every query tile.
// The online-softmax update between the products is the same code in both,
// compiled for each instruction set (cpu/CpuFeatures.h picks one).

#include "cpu/AttentionSpans.h"
#include "cpu/AttentionTiles.h"
#include "cpu/CpuFeatures.h"
#include "cpu/FastMath.h"
#include "cpu/KernelContext.h"

#include "artifact/OpTable.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

namespace lmc::cpu {
namespace {

constexpr int64_t kQueryRows = 64, kKeyBlock = 256;

int64_t roundUp(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

/// K transposed per (key head, span, key block): block b of span s is
/// [dim][ld] floats, ld its key count rounded up to 16, zero past the keys.
struct PackedKeys {
  std::vector<float> data;
  /// Per span: the index of its first block; then per block, its offset
  /// within a key head's part and its ld.
  std::vector<int64_t> firstBlock, offset, ld;
  int64_t perHead = 0;

  const float *block(int64_t keyHead, size_t span, int64_t index) const {
    return data.data() + keyHead * perHead + offset[size_t(firstBlock[span] + index)];
  }
};

struct Problem {
  const float *q, *k, *v;
  float *out;
  /// The log-sum-exp per query row and head ([rows, heads]), or null.
  float *lse;
  int64_t heads, keyHeads, dim, valueDim;
  /// The softmax scale times log2(e): scores are kept in base 2.
  float scaleLog2;
  bool causal;
  /// Set for the tiled path.
  const PackedKeys *packed;
};

/// Scratch of one thread: scaled queries, one tile of scores, and the
/// running max, sum and output of each query row.
struct Scratch {
  std::vector<float> queries, scores, rowMax, rowSum, acc;
  explicit Scratch(const Problem &p)
      : queries(size_t(kQueryRows * p.dim)), scores(size_t(kQueryRows * kKeyBlock)),
        rowMax(size_t(kQueryRows)), rowSum(size_t(kQueryRows)),
        acc(size_t(kQueryRows * p.valueDim)) {}
};

/// The online-softmax update of one query row over one key block: turns the
/// row's `visible` scores into 2^(s - newMax) (zeros after them, up to
/// `cols`), rescales its output accumulator and updates its max and sum.
__attribute__((always_inline)) inline void softmaxRow(float *row, int64_t visible, int64_t cols,
                                                      float &rowMax, float &rowSum, float *acc,
                                                      int64_t valueDim) {
  float tileMax = maxOf(row, visible);
  // A row whose keys of this block are all in its future adds nothing.
  float newMax = visible ? std::max(rowMax, tileMax) : rowMax;
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < visible; ++j) {
    row[j] = fastExp2(row[j] - newMax);
    sum += row[j];
  }
  std::fill(row + visible, row + cols, 0.0f);
  // Once the row's max settles (usually after its first blocks) the output
  // needs no rescaling.
  if (newMax != rowMax) {
    float correction = fastExp2(rowMax - newMax);
#pragma omp simd
    for (int64_t d = 0; d < valueDim; ++d)
      acc[d] *= correction;
    rowSum *= correction;
    rowMax = newMax;
  }
  rowSum += sum;
}

/// A query tile's first and last steps around its key blocks.
struct TileRows {
  int64_t kh, rows;
  /// Copies the tile's queries times the scale into s.queries (zero rows
  /// after them up to `paddedRows`, if more) and resets the running
  /// statistics and accumulators.
  __attribute__((always_inline)) static TileRows start(const Problem &p, const Span &span,
                                                       int64_t h, int64_t queryStart,
                                                       int64_t paddedRows, Scratch &s) {
    TileRows tile{h / (p.heads / p.keyHeads), std::min(kQueryRows, span.queries - queryStart)};
    for (int64_t i = 0; i < tile.rows; ++i) {
      const float *qRow = p.q + ((span.queryBase + queryStart + i) * p.heads + h) * p.dim;
      float *to = s.queries.data() + i * p.dim;
#pragma omp simd
      for (int64_t d = 0; d < p.dim; ++d)
        to[d] = qRow[d] * p.scaleLog2;
      s.rowMax[size_t(i)] = -INFINITY;
      s.rowSum[size_t(i)] = 0;
    }
    paddedRows = std::max(paddedRows, tile.rows);
    std::fill(s.queries.data() + tile.rows * p.dim, s.queries.data() + paddedRows * p.dim, 0.0f);
    std::fill(s.acc.data(), s.acc.data() + paddedRows * p.valueDim, 0.0f);
    return tile;
  }

  /// Causal rows see keys up to their own position: later blocks are
  /// skipped.
  int64_t lastKey(const Problem &p, const Span &span, int64_t queryStart) const {
    return p.causal ? std::min(span.keys, queryStart + rows) : span.keys;
  }

  /// The keys of block [keyStart, keyStart + cols) row i sees.
  int64_t visible(const Problem &p, int64_t queryStart, int64_t i, int64_t keyStart,
                  int64_t cols) const {
    return p.causal ? std::max<int64_t>(0, std::min(cols, queryStart + i - keyStart + 1)) : cols;
  }

  /// Writes out = acc / sum and the log-sum-exp of each row.
  __attribute__((always_inline)) void finish(const Problem &p, const Span &span, int64_t h,
                                             int64_t queryStart, const Scratch &s) const {
    for (int64_t i = 0; i < rows; ++i) {
      float *o = p.out + ((span.queryBase + queryStart + i) * p.heads + h) * p.valueDim;
      const float *a = s.acc.data() + i * p.valueDim;
      float sum = s.rowSum[size_t(i)], inverse = sum > 0 ? 1.0f / sum : 0.0f;
#pragma omp simd
      for (int64_t d = 0; d < p.valueDim; ++d)
        o[d] = a[d] * inverse;
      // Scores are in base 2: ln(sum e^s) = ln 2 * (max + log2(sum)).
      if (p.lse)
        p.lse[(span.queryBase + queryStart + i) * p.heads + h] =
            sum > 0 ? 0.69314718f * (s.rowMax[size_t(i)] + std::log2(sum)) : -INFINITY;
    }
  }
};

/// A query tile with register-blocked products (R x 16V blocks).
template <int R, int V>
__attribute__((always_inline)) inline void queryTileTiled(const Problem &p, size_t spanIndex,
                                                          const Span &span, int64_t h,
                                                          int64_t queryStart, Scratch &s) {
  int64_t padded = roundUp(std::min(kQueryRows, span.queries - queryStart), R);
  TileRows tile = TileRows::start(p, span, h, queryStart, padded, s);
  float *scores = s.scores.data();
  const int64_t vStride = p.keyHeads * p.valueDim, lastKey = tile.lastKey(p, span, queryStart);
  for (int64_t block = 0, keyStart = 0; keyStart < lastKey; ++block, keyStart += kKeyBlock) {
    int64_t cols = std::min(kKeyBlock, lastKey - keyStart);
    int64_t ld = p.packed->ld[size_t(p.packed->firstBlock[spanIndex] + block)];
    tiles::scoreTile<R, V>(s.queries.data(), padded, p.dim,
                           p.packed->block(tile.kh, spanIndex, block), ld, scores);
    for (int64_t i = 0; i < tile.rows; ++i)
      softmaxRow(scores + i * ld, tile.visible(p, queryStart, i, keyStart, cols), cols,
                 s.rowMax[size_t(i)], s.rowSum[size_t(i)], s.acc.data() + i * p.valueDim,
                 p.valueDim);
    // Padding rows hold zero scores: they add nothing to their accumulators.
    const float *vTile = p.v + ((span.keyBase + keyStart) * p.keyHeads + tile.kh) * p.valueDim;
    tiles::valueTile<R, V>(scores, ld, padded, cols, vTile, vStride, p.valueDim, s.acc.data());
  }
  tile.finish(p, span, h, queryStart, s);
}

/// A query tile with BLAS products (single-threaded inside the team).
__attribute__((always_inline)) inline void
queryTileBlas(const Problem &p, const Span &span, int64_t h, int64_t queryStart, Scratch &s) {
  TileRows tile = TileRows::start(p, span, h, queryStart, 0, s);
  int rows = int(tile.rows);
  float *scores = s.scores.data();
  const int64_t kStride = p.keyHeads * p.dim, vStride = p.keyHeads * p.valueDim;
  const int64_t lastKey = tile.lastKey(p, span, queryStart);
  for (int64_t keyStart = 0; keyStart < lastKey; keyStart += kKeyBlock) {
    int64_t cols = std::min(kKeyBlock, lastKey - keyStart);
    const float *kTile = p.k + ((span.keyBase + keyStart) * p.keyHeads + tile.kh) * p.dim;
    const float *vTile = p.v + ((span.keyBase + keyStart) * p.keyHeads + tile.kh) * p.valueDim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, int(cols), int(p.dim), 1.0f,
                s.queries.data(), int(p.dim), kTile, int(kStride), 0.0f, scores, int(cols));
    for (int64_t i = 0; i < tile.rows; ++i)
      softmaxRow(scores + i * cols, tile.visible(p, queryStart, i, keyStart, cols), cols,
                 s.rowMax[size_t(i)], s.rowSum[size_t(i)], s.acc.data() + i * p.valueDim,
                 p.valueDim);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, int(p.valueDim), int(cols), 1.0f,
                scores, int(cols), vTile, int(vStride), 1.0f, s.acc.data(), int(p.valueDim));
  }
  tile.finish(p, span, h, queryStart, s);
}

void queryTileBaseline(const Problem &p, size_t, const Span &span, int64_t h, int64_t queryStart,
                       Scratch &s) {
  queryTileBlas(p, span, h, queryStart, s);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void queryTileAvx2(const Problem &p, size_t spanIndex,
                                                       const Span &span, int64_t h,
                                                       int64_t queryStart, Scratch &s) {
  if (p.packed)
    return queryTileTiled<4, 1>(p, spanIndex, span, h, queryStart, s);
  queryTileBlas(p, span, h, queryStart, s);
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))) void
queryTileAvx512(const Problem &p, size_t spanIndex, const Span &span, int64_t h, int64_t queryStart,
                Scratch &s) {
  if (p.packed)
    return queryTileTiled<4, 4>(p, spanIndex, span, h, queryStart, s);
  queryTileBlas(p, span, h, queryStart, s);
}
#endif

using QueryTile = void (*)(const Problem &, size_t, const Span &, int64_t, int64_t, Scratch &);

QueryTile queryTileFor(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::Avx512)
    return queryTileAvx512;
  if (isa == Isa::Avx2)
    return queryTileAvx2;
#endif
  (void)isa;
  return queryTileBaseline;
}

/// K transposed into blocks (PackedKeys), for the tiled path.
void packKeys(const Problem &p, const std::vector<Span> &spans, PackedKeys &packed) {
  for (const Span &span : spans) {
    packed.firstBlock.push_back(int64_t(packed.offset.size()));
    for (int64_t keyStart = 0; keyStart < span.keys; keyStart += kKeyBlock) {
      int64_t ld = roundUp(std::min(kKeyBlock, span.keys - keyStart), 16);
      packed.offset.push_back(packed.perHead);
      packed.ld.push_back(ld);
      packed.perHead += p.dim * ld;
    }
  }
  packed.firstBlock.push_back(int64_t(packed.offset.size()));
  packed.data.assign(size_t(p.keyHeads * packed.perHead), 0.0f);
  int64_t blocks = int64_t(packed.offset.size());
  parallelFor(p.keyHeads * blocks, p.dim * kKeyBlock, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t kh = item / blocks, block = item % blocks;
      // The span holding the block: the last one starting at or before it.
      size_t span =
          size_t(std::upper_bound(packed.firstBlock.begin(), packed.firstBlock.end(), block) -
                 packed.firstBlock.begin() - 1);
      int64_t keyStart = (block - packed.firstBlock[span]) * kKeyBlock;
      int64_t cols = std::min(kKeyBlock, spans[span].keys - keyStart);
      int64_t ld = packed.ld[size_t(block)];
      float *to = packed.data.data() + kh * packed.perHead + packed.offset[size_t(block)];
      for (int64_t j = 0; j < cols; ++j) {
        const float *key = p.k + ((spans[span].keyBase + keyStart + j) * p.keyHeads + kh) * p.dim;
        for (int64_t d = 0; d < p.dim; ++d)
          to[d * ld + j] = key[d];
      }
    }
  });
}

} // namespace

bool attentionSpans(KernelContext &ctx, const Tensor &q, const Tensor &k, const Tensor *cu,
                    const Tensor *lengths, std::vector<Span> &spans) {
  if (cu) {
    int64_t tokens = q.shape[0];
    if (cu->rank() != 1 || cu->numElements() < 1 || integerAt(*cu, 0) != 0 ||
        integerAt(*cu, cu->numElements() - 1) != tokens || k.shape[0] != tokens)
      return ctx.fail("cu_seqlens must run from 0 to the token count " +
                      std::to_string(tokens));
    for (int64_t s = 0; s + 1 < cu->numElements(); ++s) {
      int64_t begin = integerAt(*cu, s), length = integerAt(*cu, s + 1) - begin;
      if (length < 0)
        return ctx.fail("cu_seqlens decreases at #" + std::to_string(s + 1));
      spans.push_back({begin, begin, length, length});
    }
    return true;
  }
  int64_t batch = q.shape[0], s = q.shape[1], sk = k.shape[1];
  if (k.shape[0] != batch)
    return ctx.fail("query and key batch sizes differ");
  if (lengths && lengths->numElements() != batch)
    return ctx.fail("lengths " + describe(*lengths) + " do not match the batch");
  for (int64_t b = 0; b < batch; ++b) {
    int64_t keys = lengths ? integerAt(*lengths, b) : sk;
    if (keys < 0 || keys > std::min(s, sk))
      return ctx.fail("lengths[" + std::to_string(b) + "] = " + std::to_string(keys) +
                      " exceeds the padded length " + std::to_string(std::min(s, sk)));
    // Every query row attends; only keys are masked (key padding).
    spans.push_back({b * s, b * sk, s, keys});
  }
  return true;
}


bool runAttention(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  namespace operand = ops::slot::attentionOperand;
  const Tensor &q = *in[operand::query], &k = *in[operand::key], &v = *in[operand::value];
  const Tensor *cu = in[operand::cuSeqlens], *lengths = in[operand::lengths];
  size_t rank = cu ? 3 : 4;
  bool fits = q.rank() == int64_t(rank) && k.rank() == int64_t(rank) &&
              v.rank() == int64_t(rank) && rt::isFloat(q.dtype) && k.dtype == q.dtype &&
              v.dtype == q.dtype;
  for (const Tensor *index : {cu, lengths})
    fits &= !index || index->dtype == DType::I32 || index->dtype == DType::I64;
  int64_t heads = fits ? q.shape[rank - 2] : 0, keyHeads = fits ? k.shape[rank - 2] : 0;
  int64_t dim = fits ? q.shape[rank - 1] : 0, valueDim = fits ? v.shape[rank - 1] : 0;
  fits = fits && k.shape[rank - 1] == dim && keyHeads > 0 && heads % keyHeads == 0 &&
         std::equal(k.shape.begin(), k.shape.end() - 1, v.shape.begin());
  if (!fits)
    return ctx.fail("query, key and value " + describe(q) + ", " + describe(k) + ", " +
                    describe(v) + " do not fit");
  std::vector<Span> spans;
  if (!attentionSpans(ctx, q, k, cu, lengths, spans))
    return false;
  Tensor &result = out[0];
  if (!ctx.allocate(0, q.dtype, result))
    return false;

  double given = ctx.instruction->reals[ops::slot::attention::scale];
  float scale = float(ops::attentionScale(given, dim));
  bool withLse = ctx.instruction->results.size() > 1;
  if (withLse && !ctx.allocate(1, DType::F32, out[1]))
    return false;
  FloatInput qf(q), kf(k), vf(v);
  FloatOutput of(result);
  bool causal = ctx.instruction->ints[ops::slot::attention::causal] != 0;
  Problem problem{
      qf.data(), kf.data(), vf.data(), of.data(), withLse ? out[1].as<float>() : nullptr,
      heads,     keyHeads,  dim,       valueDim,  scale * 1.44269504f,
      causal,    nullptr};
  Isa isa = cpuIsa();
  PackedKeys packed;
  if (isa != Isa::Baseline && dim % 16 == 0 && valueDim % 16 == 0) {
    packKeys(problem, spans, packed);
    problem.packed = &packed;
  }
  QueryTile queryTile = queryTileFor(isa);

  struct WorkItem {
    size_t span;
    int64_t head, queryStart, cost;
  };
  // A tile's cost: its rows times the keys they see (causal rows see the
  // keys up to the tile's last row).
  auto cost = [&](const Span &span, int64_t start) {
    int64_t rows = std::min(kQueryRows, span.queries - start);
    int64_t keys = causal ? std::min(span.keys, start + rows) : span.keys;
    return rows * std::max<int64_t>(keys, 1);
  };
  std::vector<WorkItem> items;
  for (size_t s = 0; s < spans.size(); ++s)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t start = 0; start < spans[s].queries; start += kQueryRows)
        items.push_back({s, h, start, cost(spans[s], start)});
  // Tiles of long sequences cost far more than short ones: hand them out
  // heaviest first, one at a time, so no thread is left with the tail.
  std::sort(items.begin(), items.end(),
            [](const WorkItem &a, const WorkItem &b) { return a.cost > b.cost; });
  parallelForEach(
      int64_t(items.size()), [&] { return Scratch(problem); },
      [&](int64_t w, Scratch &scratch) {
        const WorkItem &item = items[size_t(w)];
        queryTile(problem, item.span, spans[item.span], item.head, item.queryStart, scratch);
      });
  of.commit();
  return true;
}

} // namespace lmc::cpu
