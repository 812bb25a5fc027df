// Attention.cpp - lmc.attention as tiled online softmax (FlashAttention's
// algorithm) on the CPU.
//
// Each sequence is cut into tiles of block_q query rows and block_k key rows
// (the kernel's tile shape, the same as the GPU's). A query tile walks its
// own sequence's key tiles only -- tiles never cross a sequence boundary, so
// a packed batch does no work on other sequences' tokens, and a causal tile
// stops at its last row's position -- and keeps a running max, sum and
// output per row: no score matrix larger than one block_q x block_k tile
// exists. Work items (sequence, head, query tile) run in parallel, longest
// first; the tile loop is compiled twice (AVX2+FMA and baseline) and picked
// by the CPU's features.

#include "cpu/AttentionSpans.h"
#include "cpu/FastMath.h"
#include "cpu/KernelContext.h"

#include "artifact/OpTable.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <omp.h>

namespace lmc::cpu {
namespace {

struct Problem {
  const float *q, *k, *v;
  float *out;
  /// The log-sum-exp per query row and head ([rows, heads]), or null.
  float *lse;
  int64_t heads, keyHeads, dim, valueDim, blockQ, blockK;
  /// The softmax scale times log2(e): scores are kept in base 2.
  float scaleLog2;
  bool causal;
};

/// Scratch of one thread: scaled queries, one tile of scores, and the
/// running max, sum and output of each query row.
struct Scratch {
  std::vector<float> queries, scores, rowMax, rowSum, acc;
  explicit Scratch(const Problem &p)
      : queries(size_t(p.blockQ * p.dim)), scores(size_t(p.blockQ * p.blockK)),
        rowMax(size_t(p.blockQ)), rowSum(size_t(p.blockQ)), acc(size_t(p.blockQ * p.valueDim)) {}
};

/// One query tile against its sequence's key tiles: S = Q K^T and O += P V
/// are small GEMMs (BLAS, single-threaded inside the backend's threads); the
/// online-softmax update between them is inlined into a baseline and an
/// AVX2+FMA copy below, and queryTile() picks one by the CPU's features.
__attribute__((always_inline)) inline void
queryTileBody(const Problem &p, const Span &span, int64_t h, int64_t queryStart, Scratch &s) {
  const int64_t kh = h / (p.heads / p.keyHeads), dim = p.dim, valueDim = p.valueDim;
  const int64_t blockK = p.blockK;
  const int64_t rows = std::min(p.blockQ, span.queries - queryStart);
  float *qs = s.queries.data(), *scores = s.scores.data();
  float *rowMax = s.rowMax.data(), *rowSum = s.rowSum.data(), *acc = s.acc.data();
  for (int64_t i = 0; i < rows; ++i) {
    const float *qRow = p.q + ((span.queryBase + queryStart + i) * p.heads + h) * dim;
    for (int64_t d = 0; d < dim; ++d)
      qs[i * dim + d] = qRow[d] * p.scaleLog2;
    rowMax[i] = -INFINITY;
    rowSum[i] = 0;
  }
  std::fill(acc, acc + rows * valueDim, 0.0f);
  const int64_t kStride = p.keyHeads * dim, vStride = p.keyHeads * valueDim;
  // Causal rows see keys up to their own position: later tiles are skipped.
  int64_t lastKey = p.causal ? std::min(span.keys, queryStart + rows) : span.keys;
  for (int64_t keyStart = 0; keyStart < lastKey; keyStart += blockK) {
    int64_t cols = std::min(blockK, lastKey - keyStart);
    const float *kTile = p.k + ((span.keyBase + keyStart) * p.keyHeads + kh) * dim;
    const float *vTile = p.v + ((span.keyBase + keyStart) * p.keyHeads + kh) * valueDim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(cols), int(dim), 1.0f,
                qs, int(dim), kTile, int(kStride), 0.0f, scores, int(blockK));
    for (int64_t i = 0; i < rows; ++i) {
      float *row = scores + i * blockK;
      int64_t visible = cols;
      if (p.causal)
        visible = std::max<int64_t>(0, std::min(cols, queryStart + i - keyStart + 1));
      float tileMax = -INFINITY;
#pragma omp simd reduction(max : tileMax)
      for (int64_t j = 0; j < visible; ++j)
        tileMax = std::max(tileMax, row[j]);
      // A row whose keys of this tile are all in its future adds nothing.
      float newMax = visible ? std::max(rowMax[i], tileMax) : rowMax[i];
      float correction = visible ? fastExp2(rowMax[i] - newMax) : 1.0f;
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < visible; ++j) {
        row[j] = fastExp2(row[j] - newMax);
        sum += row[j];
      }
      std::fill(row + visible, row + cols, 0.0f);
      float *a = acc + i * valueDim;
      for (int64_t d = 0; d < valueDim; ++d)
        a[d] *= correction;
      rowSum[i] = rowSum[i] * correction + sum;
      rowMax[i] = newMax;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(valueDim), int(cols),
                1.0f, scores, int(blockK), vTile, int(vStride), 1.0f, acc, int(valueDim));
  }
  for (int64_t i = 0; i < rows; ++i) {
    float *o = p.out + ((span.queryBase + queryStart + i) * p.heads + h) * valueDim;
    float inverse = rowSum[i] > 0 ? 1.0f / rowSum[i] : 0.0f;
    for (int64_t d = 0; d < valueDim; ++d)
      o[d] = acc[i * valueDim + d] * inverse;
    // Scores are in base 2: ln(sum e^s) = ln 2 * (max + log2(sum)).
    if (p.lse)
      p.lse[(span.queryBase + queryStart + i) * p.heads + h] =
          rowSum[i] > 0 ? 0.69314718f * (rowMax[i] + std::log2(rowSum[i])) : -INFINITY;
  }
}

void queryTileBaseline(const Problem &p, const Span &span, int64_t h, int64_t queryStart,
                       Scratch &s) {
  queryTileBody(p, span, h, queryStart, s);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void queryTileAvx2(const Problem &p, const Span &span,
                                                      int64_t h, int64_t queryStart, Scratch &s) {
  queryTileBody(p, span, h, queryStart, s);
}
#endif

void queryTile(const Problem &p, const Span &span, int64_t h, int64_t queryStart, Scratch &s) {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2)
    return queryTileAvx2(p, span, h, queryStart, s);
#endif
  queryTileBaseline(p, span, h, queryStart, s);
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
  Problem problem{qf.data(), kf.data(), vf.data(), of.data(),
                  withLse ? out[1].as<float>() : nullptr, heads, keyHeads, dim, valueDim,
                  ctx.kernel.blockQ > 0 ? ctx.kernel.blockQ : 64,
                  ctx.kernel.blockK > 0 ? ctx.kernel.blockK : 64,
                  scale * 1.44269504f, ctx.instruction->ints[ops::slot::attention::causal] != 0};

  struct WorkItem {
    size_t span;
    int64_t head, queryStart, cost;
  };
  std::vector<WorkItem> items;
  for (size_t s = 0; s < spans.size(); ++s)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t start = 0; start < spans[s].queries; start += problem.blockQ)
        items.push_back({s, h, start, std::min(problem.blockQ, spans[s].queries - start) *
                                          std::max<int64_t>(spans[s].keys, 1)});
  // Tiles of long sequences cost far more than short ones: hand them out
  // longest first, one at a time, so no thread is left with the tail.
  std::sort(items.begin(), items.end(),
            [](const WorkItem &a, const WorkItem &b) { return a.cost > b.cost; });
  int64_t count = int64_t(items.size());
#pragma omp parallel if (count > 1 && !omp_in_parallel())
  {
    Scratch scratch(problem);
#pragma omp for schedule(dynamic, 1)
    for (int64_t w = 0; w < count; ++w) {
      const WorkItem &item = items[size_t(w)];
      queryTile(problem, spans[item.span], item.head, item.queryStart, scratch);
    }
  }
  of.commit();
  return true;
}

} // namespace lmc::cpu
