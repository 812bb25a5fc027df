// AttentionGrad.cpp - lmc.attention_grad on the CPU: FlashAttention-2's
// backward over the forward's tiles.
//
// A work item is one (sequence, key head): nothing else writes its rows of
// dK and dV, nor the dQ rows of the query heads that read that key head, so
// items run in parallel without atomics. For each of those query heads the
// item walks query tiles and their visible key tiles, recomputing the
// probabilities from the forward's log-sum-exp instead of storing them:
//   P = exp(scale Q K^T - lse), dV += P^T dO, dP = dO V^T,
//   dS = scale P (dP - rowsum(dO * O)), dQ += dS K, dK += dS^T Q.
// The tile GEMMs are BLAS calls; no matrix larger than a tile exists.

#include "cpu/AttentionSpans.h"

#include "artifact/OpTable.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

namespace lmc::cpu {
namespace {

struct GradProblem {
  const float *q, *k, *v, *o, *lse, *dO;
  float *dq, *dk, *dv;
  int64_t heads, keyHeads, dim, valueDim, blockQ, blockK;
  float scale;
  bool causal;
};

struct GradScratch {
  std::vector<float> p, dp, rowDot;
  explicit GradScratch(const GradProblem &g)
      : p(size_t(g.blockQ * g.blockK)), dp(size_t(g.blockQ * g.blockK)),
        rowDot(size_t(g.blockQ)) {}
};

void queryTileGrad(const GradProblem &g, const Span &span, int64_t h, int64_t kh,
                   int64_t queryStart, GradScratch &s) {
  const int64_t rows = std::min(g.blockQ, span.queries - queryStart);
  const int64_t qStride = g.heads * g.dim, oStride = g.heads * g.valueDim;
  const int64_t kStride = g.keyHeads * g.dim, vStride = g.keyHeads * g.valueDim;
  const int64_t firstRow = span.queryBase + queryStart;
  const float *qTile = g.q + (firstRow * g.heads + h) * g.dim;
  const float *oTile = g.o + (firstRow * g.heads + h) * g.valueDim;
  const float *dOTile = g.dO + (firstRow * g.heads + h) * g.valueDim;
  float *dqTile = g.dq + (firstRow * g.heads + h) * g.dim;
  for (int64_t i = 0; i < rows; ++i) {
    float dot = 0;
    for (int64_t d = 0; d < g.valueDim; ++d)
      dot += dOTile[i * oStride + d] * oTile[i * oStride + d];
    s.rowDot[size_t(i)] = dot;
  }
  int64_t lastKey = g.causal ? std::min(span.keys, queryStart + rows) : span.keys;
  float *p = s.p.data(), *dp = s.dp.data();
  for (int64_t keyStart = 0; keyStart < lastKey; keyStart += g.blockK) {
    int64_t cols = std::min(g.blockK, lastKey - keyStart);
    const float *kTile = g.k + ((span.keyBase + keyStart) * g.keyHeads + kh) * g.dim;
    const float *vTile = g.v + ((span.keyBase + keyStart) * g.keyHeads + kh) * g.valueDim;
    float *dkTile = g.dk + ((span.keyBase + keyStart) * g.keyHeads + kh) * g.dim;
    float *dvTile = g.dv + ((span.keyBase + keyStart) * g.keyHeads + kh) * g.valueDim;
    // P = exp(scale Q K^T - lse), zero where the mask hides the key.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(cols), int(g.dim),
                g.scale, qTile, int(qStride), kTile, int(kStride), 0.0f, p, int(g.blockK));
    for (int64_t i = 0; i < rows; ++i) {
      float rowLse = g.lse[(firstRow + i) * g.heads + h];
      int64_t visible = g.causal ? std::clamp<int64_t>(queryStart + i - keyStart + 1, 0, cols)
                                 : cols;
      for (int64_t j = 0; j < cols; ++j)
        p[i * g.blockK + j] = j < visible ? std::exp(p[i * g.blockK + j] - rowLse) : 0.0f;
    }
    // dV += P^T dO
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(cols), int(g.valueDim), int(rows),
                1.0f, p, int(g.blockK), dOTile, int(oStride), 1.0f, dvTile, int(vStride));
    // dP = dO V^T, then dS = scale P (dP - rowsum(dO * O)) in place.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(cols), int(g.valueDim),
                1.0f, dOTile, int(oStride), vTile, int(vStride), 0.0f, dp, int(g.blockK));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        dp[i * g.blockK + j] =
            g.scale * p[i * g.blockK + j] * (dp[i * g.blockK + j] - s.rowDot[size_t(i)]);
    // dQ += dS K, dK += dS^T Q
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(g.dim), int(cols),
                1.0f, dp, int(g.blockK), kTile, int(kStride), 1.0f, dqTile, int(qStride));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(cols), int(g.dim), int(rows), 1.0f,
                dp, int(g.blockK), qTile, int(qStride), 1.0f, dkTile, int(kStride));
  }
}

} // namespace

bool runAttentionGrad(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  namespace operand = ops::slot::attentionGradOperand;
  const Tensor &q = *in[operand::query], &k = *in[operand::key], &v = *in[operand::value],
               &o = *in[operand::out], &lse = *in[operand::lse], &dO = *in[operand::gradOut];
  const Tensor *cu = in[operand::cuSeqlens], *lengths = in[operand::lengths];
  size_t rank = cu ? 3 : 4;
  bool fits = q.rank() == int64_t(rank) && k.rank() == int64_t(rank) &&
              v.rank() == int64_t(rank) && rt::isFloat(q.dtype) && k.dtype == q.dtype &&
              v.dtype == q.dtype && o.dtype == q.dtype && dO.dtype == q.dtype &&
              lse.dtype == DType::F32;
  int64_t heads = fits ? q.shape[rank - 2] : 0, keyHeads = fits ? k.shape[rank - 2] : 0;
  int64_t dim = fits ? q.shape[rank - 1] : 0, valueDim = fits ? v.shape[rank - 1] : 0;
  std::vector<int64_t> outShape(q.shape);
  if (fits)
    outShape.back() = valueDim;
  fits = fits && k.shape[rank - 1] == dim && keyHeads > 0 && heads % keyHeads == 0 &&
         std::equal(k.shape.begin(), k.shape.end() - 1, v.shape.begin()) &&
         o.shape == outShape && dO.shape == outShape &&
         lse.shape == std::vector<int64_t>(q.shape.begin(), q.shape.end() - 1);
  if (!fits)
    return ctx.fail("query, key, value, out, lse and grad_out " + describe(q) + ", " +
                    describe(k) + ", " + describe(v) + ", " + describe(o) + ", " +
                    describe(lse) + ", " + describe(dO) + " do not fit");
  std::vector<Span> spans;
  if (!attentionSpans(ctx, q, k, cu, lengths, spans))
    return false;
  for (size_t r = 0; r < 3; ++r)
    if (!ctx.allocate(r, q.dtype, out[r]))
      return false;

  double given = ctx.instruction->reals[ops::slot::attention::scale];
  FloatInput qf(q), kf(k), vf(v), of(o), lsef(lse), dOf(dO);
  FloatOutput dqf(out[0]), dkf(out[1]), dvf(out[2]);
  // Gradients accumulate tile by tile: start from zero.
  std::fill(dqf.data(), dqf.data() + out[0].numElements(), 0.0f);
  std::fill(dkf.data(), dkf.data() + out[1].numElements(), 0.0f);
  std::fill(dvf.data(), dvf.data() + out[2].numElements(), 0.0f);
  GradProblem problem{qf.data(), kf.data(), vf.data(), of.data(), lsef.data(), dOf.data(),
                      dqf.data(), dkf.data(), dvf.data(), heads, keyHeads, dim, valueDim,
                      ctx.kernel.blockQ > 0 ? ctx.kernel.blockQ : 64,
                      ctx.kernel.blockK > 0 ? ctx.kernel.blockK : 64,
                      float(ops::attentionScale(given, dim)),
                      ctx.instruction->ints[ops::slot::attention::causal] != 0};

  int64_t group = heads / keyHeads;
  int64_t items = int64_t(spans.size()) * keyHeads;
  parallelForEach(
      items, [&] { return GradScratch(problem); },
      [&](int64_t item, GradScratch &scratch) {
        const Span &span = spans[size_t(item / keyHeads)];
        int64_t kh = item % keyHeads;
        for (int64_t h = kh * group; h < (kh + 1) * group; ++h)
          for (int64_t start = 0; start < span.queries; start += problem.blockQ)
            queryTileGrad(problem, span, h, kh, start, scratch);
      });
  dqf.commit();
  dkf.commit();
  dvf.commit();
  return true;
}

} // namespace lmc::cpu
