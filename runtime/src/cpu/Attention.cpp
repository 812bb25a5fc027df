// Attention.cpp - lmc.attention as tiled online softmax (FlashAttention's
// algorithm) on the CPU.
//
// Each sequence is cut into tiles of block_q query rows and block_k key rows
// (the kernel's tile shape, the same as the GPU's). A query tile walks its
// own sequence's key tiles only -- tiles never cross a sequence boundary, so
// a packed batch does no work on other sequences' tokens -- and keeps a
// running max, sum and output per row: no score matrix larger than one
// block_q x block_k tile exists. Work items (sequence, head, query tile) run
// in parallel.

#include "cpu/KernelContext.h"

#include <algorithm>
#include <cmath>

namespace lmc::cpu {
namespace {

/// Where a sequence's query and key rows start, and how many there are.
struct Span {
  int64_t queryBase, keyBase, queries, keys;
};

struct WorkItem {
  size_t span;
  int64_t head, queryStart;
};

bool spansOf(KernelContext &ctx, const Tensor &q, const Tensor &k, const Tensor *cu,
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

} // namespace

bool runAttention(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  const Tensor &q = *in[0], &k = *in[1], &v = *in[2];
  const Tensor *cu = in[3], *lengths = in[4];
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
  if (!spansOf(ctx, q, k, cu, lengths, spans))
    return false;
  std::vector<int64_t> shape(q.shape);
  shape.back() = valueDim;
  Tensor &result = out[0];
  if (!ctx.allocate(0, q.dtype, shape, result))
    return false;

  bool causal = ctx.instruction->ints[0] != 0;
  double given = ctx.instruction->reals[0];
  float scale = std::isnan(given) ? 1.0f / std::sqrt(float(dim)) : float(given);
  int64_t blockQ = ctx.kernel.blockQ > 0 ? ctx.kernel.blockQ : 64;
  int64_t blockK = ctx.kernel.blockK > 0 ? ctx.kernel.blockK : 64;
  int64_t group = heads / keyHeads;

  std::vector<WorkItem> items;
  for (size_t s = 0; s < spans.size(); ++s)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t start = 0; start < spans[s].queries; start += blockQ)
        items.push_back({s, h, start});

  FloatInput qf(q), kf(k), vf(v);
  FloatOutput of(result);
  const float *Q = qf.data(), *K = kf.data(), *V = vf.data();
  float *O = of.data();
  parallelFor(int64_t(items.size()), blockQ * dim * 64, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(blockQ * blockK));
    std::vector<float> rowMax(static_cast<size_t>(blockQ));
    std::vector<float> rowSum(static_cast<size_t>(blockQ));
    std::vector<float> acc(static_cast<size_t>(blockQ * valueDim));
    for (int64_t w = begin; w < end; ++w) {
      const WorkItem &item = items[size_t(w)];
      const Span &span = spans[item.span];
      int64_t h = item.head, kh = h / group;
      int64_t rows = std::min(blockQ, span.queries - item.queryStart);
      std::fill(rowMax.begin(), rowMax.end(), -INFINITY);
      std::fill(rowSum.begin(), rowSum.end(), 0.0f);
      std::fill(acc.begin(), acc.end(), 0.0f);
      // Causal rows see keys up to their own position: later tiles are skipped.
      int64_t lastKey = causal ? std::min(span.keys, item.queryStart + rows) : span.keys;
      for (int64_t keyStart = 0; keyStart < lastKey; keyStart += blockK) {
        int64_t cols = std::min(blockK, lastKey - keyStart);
        for (int64_t i = 0; i < rows; ++i) {
          int64_t row = item.queryStart + i;
          const float *qRow = Q + ((span.queryBase + row) * heads + h) * dim;
          float *s = scores.data() + i * blockK;
          float tileMax = -INFINITY;
          for (int64_t j = 0; j < cols; ++j) {
            int64_t key = keyStart + j;
            if (causal && key > row) {
              s[j] = -INFINITY;
              continue;
            }
            const float *kRow = K + ((span.keyBase + key) * keyHeads + kh) * dim;
            float dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t d = 0; d < dim; ++d)
              dot += qRow[d] * kRow[d];
            s[j] = dot * scale;
            tileMax = std::max(tileMax, s[j]);
          }
          if (tileMax == -INFINITY)
            continue; // every key of this tile is in the row's future
          float newMax = std::max(rowMax[size_t(i)], tileMax);
          float correction = std::exp(rowMax[size_t(i)] - newMax);
          float *a = acc.data() + i * valueDim;
          for (int64_t d = 0; d < valueDim; ++d)
            a[d] *= correction;
          float sum = 0;
          for (int64_t j = 0; j < cols; ++j) {
            if (s[j] == -INFINITY)
              continue;
            float p = std::exp(s[j] - newMax);
            sum += p;
            const float *vRow = V + ((span.keyBase + keyStart + j) * keyHeads + kh) * valueDim;
#pragma omp simd
            for (int64_t d = 0; d < valueDim; ++d)
              a[d] += p * vRow[d];
          }
          rowSum[size_t(i)] = rowSum[size_t(i)] * correction + sum;
          rowMax[size_t(i)] = newMax;
        }
      }
      for (int64_t i = 0; i < rows; ++i) {
        float *o = O + ((span.queryBase + item.queryStart + i) * heads + h) * valueDim;
        float inverse = rowSum[size_t(i)] > 0 ? 1.0f / rowSum[size_t(i)] : 0.0f;
        for (int64_t d = 0; d < valueDim; ++d)
          o[d] = acc[size_t(i * valueDim + d)] * inverse;
      }
    }
  });
  of.commit();
  return true;
}

} // namespace lmc::cpu
