//===- EvalCompositeOps.cpp - evaluating norms, gelu, embedding, attention ===//

#include "compiler/eval/EvalOps.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "artifact/OpTable.h"


#include <cmath>

namespace mlir::lmc::eval {
namespace {

LogicalResult evalNorm(Operation *op, EvalFrame &frame, Value inputValue,
                       Value gammaValue, Value betaValue, double epsilon,
                       bool centered) {
  EvalTensor out = frame.get(inputValue);
  const EvalTensor &gamma = frame.get(gammaValue);
  const EvalTensor *beta = betaValue ? &frame.get(betaValue) : nullptr;
  int64_t width = out.shape.back();
  if (gamma.shape[0] != width)
    return op->emitError("gamma has ")
           << gamma.shape[0] << " features, the input " << width;
  for (int64_t row = 0; row < out.numElements() / std::max<int64_t>(width, 1); ++row) {
    double *x = out.reals.data() + row * width;
    double mean = 0, square = 0;
    for (int64_t i = 0; i < width; ++i)
      mean += x[i] / double(width);
    for (int64_t i = 0; i < width; ++i) {
      double centeredValue = centered ? x[i] - mean : x[i];
      square += centeredValue * centeredValue / double(width);
    }
    double scale = 1 / std::sqrt(square + epsilon);
    for (int64_t i = 0; i < width; ++i)
      x[i] = ((centered ? x[i] - mean : x[i]) * scale) * gamma.reals[size_t(i)] +
             (beta ? beta->reals[size_t(i)] : 0.0);
  }
  return frame.set(op, op->getResult(0), std::move(out));
}

LogicalResult evalGelu(GeluOp op, EvalFrame &frame) {
  EvalTensor out = frame.get(op.getInput());
  for (double &x : out.reals)
    x = op.getApproximation() == GeluApproximation::erf
            ? 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)))
            : 0.5 * x *
                  (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalEmbedding(EmbeddingOp op, EvalFrame &frame) {
  const EvalTensor &table = frame.get(op.getTable());
  const EvalTensor &ids = frame.get(op.getIds());
  int64_t rows = table.shape[0], dim = table.shape[1];
  SmallVector<int64_t> shape(ids.shape);
  shape.push_back(dim);
  EvalTensor out = EvalTensor::zeros(shape, table.elementType);
  for (int64_t i = 0; i < ids.numElements(); ++i) {
    int64_t id = ids.integers[size_t(i)];
    if (id >= 0 && id < rows)
      for (int64_t d = 0; d < dim; ++d)
        out.reals[size_t(i * dim + d)] = table.reals[size_t(id * dim + d)];
  }
  return frame.set(op, op.getResult(), std::move(out));
}

/// The sequences of an attention call: where their query and key rows
/// start, how many query rows there are, and how many keys they may see.
struct SequenceSpan {
  int64_t queryBase, keyBase, queries, keys;
};

/// What lmc.attention and lmc.attention_grad both need to know about their
/// operands. Rows of [.., H, D] tensors: token row t, head h at
/// (t * H + h) * D.
struct AttentionGeometry {
  std::vector<SequenceSpan> spans;
  int64_t heads = 0, keyHeads = 0, dim = 0, valueDim = 0;
  double scale = 1;
  bool causal = false;

  /// Keys query row `i` of a span sees.
  int64_t visible(const SequenceSpan &span, int64_t i) const {
    return causal ? std::min(i + 1, span.keys) : span.keys;
  }
  size_t queryAt(const SequenceSpan &span, int64_t i, int64_t h, int64_t d) const {
    return size_t(((span.queryBase + i) * heads + h) * dim + d);
  }
  size_t keyAt(const SequenceSpan &span, int64_t j, int64_t kh, int64_t d) const {
    return size_t(((span.keyBase + j) * keyHeads + kh) * dim + d);
  }
  size_t valueAt(const SequenceSpan &span, int64_t j, int64_t kh, int64_t d) const {
    return size_t(((span.keyBase + j) * keyHeads + kh) * valueDim + d);
  }
  size_t outAt(const SequenceSpan &span, int64_t i, int64_t h, int64_t d) const {
    return size_t(((span.queryBase + i) * heads + h) * valueDim + d);
  }
  size_t rowAt(const SequenceSpan &span, int64_t i, int64_t h) const {
    return size_t((span.queryBase + i) * heads + h);
  }
};

template <typename AttentionLikeOp>
FailureOr<AttentionGeometry> attentionGeometry(AttentionLikeOp op,
                                               EvalFrame &frame) {
  const EvalTensor &q = frame.get(op.getQuery()), &k = frame.get(op.getKey()),
                   &v = frame.get(op.getValue());
  AttentionGeometry geometry;
  size_t r = q.shape.size();
  geometry.heads = q.shape[r - 2];
  geometry.keyHeads = k.shape[r - 2];
  geometry.dim = q.shape[r - 1];
  geometry.valueDim = v.shape[r - 1];
  geometry.causal = op.getCausal();
  if (k.shape[r - 1] != geometry.dim || geometry.keyHeads == 0 ||
      geometry.heads % geometry.keyHeads != 0 ||
      !llvm::equal(ArrayRef<int64_t>(k.shape).drop_back(),
                   ArrayRef<int64_t>(v.shape).drop_back()))
    return op.emitError("query, key and value of shapes ")
           << formatRuntimeShape(q.shape) << ", " << formatRuntimeShape(k.shape)
           << ", " << formatRuntimeShape(v.shape) << " do not fit";
  geometry.scale = ::lmc::ops::attentionScale(
      op.getScale() ? double(op.getScale()->convertToFloat()) : std::nan(""), geometry.dim);

  if (op.isPacked()) {
    const EvalTensor &cu = frame.get(op.getCuSeqlens());
    int64_t tokens = q.shape[0];
    if (cu.integers.empty() || cu.integers.front() != 0 ||
        cu.integers.back() != tokens || k.shape[0] != tokens)
      return op.emitError("cu_seqlens must run from 0 to the token count ")
             << tokens;
    for (size_t s = 0; s + 1 < cu.integers.size(); ++s) {
      int64_t length = cu.integers[s + 1] - cu.integers[s];
      if (length < 0)
        return op.emitError("cu_seqlens decreases at #") << s + 1;
      geometry.spans.push_back({cu.integers[s], cu.integers[s], length, length});
    }
    return geometry;
  }
  int64_t batch = q.shape[0], s = q.shape[1], sk = k.shape[1];
  if (k.shape[0] != batch)
    return op.emitError("query and key batch sizes differ at run time");
  const EvalTensor *lengths = op.getLengths() ? &frame.get(op.getLengths()) : nullptr;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t keys = sk;
    if (lengths) {
      keys = lengths->integers[size_t(b)];
      if (keys < 0 || keys > s || keys > sk)
        return op.emitError("lengths[")
               << b << "] = " << keys << " exceeds the padded length "
               << std::min(s, sk);
    }
    // Every query row attends; only keys are masked (a key-padding mask).
    geometry.spans.push_back({b * s, b * sk, s, keys});
  }
  return geometry;
}

/// The scaled score of query row `i` (head `h`) against key `j`.
double attentionScore(const AttentionGeometry &g, const SequenceSpan &span,
                      const EvalTensor &q, const EvalTensor &k, int64_t i,
                      int64_t j, int64_t h) {
  int64_t kh = h / (g.heads / g.keyHeads);
  double dot = 0;
  for (int64_t d = 0; d < g.dim; ++d)
    dot += q.reals[g.queryAt(span, i, h, d)] * k.reals[g.keyAt(span, j, kh, d)];
  return dot * g.scale;
}

LogicalResult evalAttention(AttentionOp op, EvalFrame &frame) {
  FailureOr<AttentionGeometry> geometry = attentionGeometry(op, frame);
  if (failed(geometry))
    return failure();
  const AttentionGeometry &g = *geometry;
  const EvalTensor &q = frame.get(op.getQuery()), &k = frame.get(op.getKey()),
                   &v = frame.get(op.getValue());

  SmallVector<int64_t> shape(q.shape);
  shape.back() = g.valueDim;
  EvalTensor out = EvalTensor::zeros(shape, q.elementType);
  EvalTensor lse = EvalTensor::zeros(ArrayRef<int64_t>(q.shape).drop_back(),
                                     Float32Type::get(op.getContext()));
  std::vector<double> scores;
  for (const SequenceSpan &span : g.spans) {
    for (int64_t h = 0; h < g.heads; ++h) {
      int64_t kh = h / (g.heads / g.keyHeads);
      for (int64_t i = 0; i < span.queries; ++i) {
        int64_t visible = g.visible(span, i);
        scores.assign(size_t(visible), 0.0);
        double max = -INFINITY;
        for (int64_t j = 0; j < visible; ++j)
          max = std::max(max, scores[size_t(j)] = attentionScore(g, span, q, k, i, j, h));
        double sum = 0;
        for (double &score : scores)
          sum += (score = std::exp(score - max));
        lse.reals[g.rowAt(span, i, h)] = visible ? max + std::log(sum) : -INFINITY;
        for (int64_t d = 0; d < g.valueDim; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < visible; ++j)
            acc += scores[size_t(j)] / sum * v.reals[g.valueAt(span, j, kh, d)];
          out.reals[g.outAt(span, i, h, d)] = acc;
        }
      }
    }
  }
  if (Value lseResult = op.getLse())
    if (failed(frame.set(op, lseResult, std::move(lse))))
      return failure();
  return frame.set(op, op.getResult(), std::move(out));
}

// FlashAttention-2's backward, row by row: P = exp(S - lse),
// dV += P^T dO, dP = dO V^T, dS = P (dP - rowsum(dO * O)), dQ = scale dS K,
// dK = scale dS^T Q.
LogicalResult evalAttentionGrad(AttentionGradOp op, EvalFrame &frame) {
  FailureOr<AttentionGeometry> geometry = attentionGeometry(op, frame);
  if (failed(geometry))
    return failure();
  const AttentionGeometry &g = *geometry;
  const EvalTensor &q = frame.get(op.getQuery()), &k = frame.get(op.getKey()),
                   &v = frame.get(op.getValue()), &o = frame.get(op.getOut()),
                   &lse = frame.get(op.getLse()), &dO = frame.get(op.getGradOut());
  EvalTensor dq = EvalTensor::zeros(q.shape, q.elementType);
  EvalTensor dk = EvalTensor::zeros(k.shape, k.elementType);
  EvalTensor dv = EvalTensor::zeros(v.shape, v.elementType);
  for (const SequenceSpan &span : g.spans) {
    for (int64_t h = 0; h < g.heads; ++h) {
      int64_t kh = h / (g.heads / g.keyHeads);
      for (int64_t i = 0; i < span.queries; ++i) {
        double rowDot = 0; // rowsum(dO * O)
        for (int64_t d = 0; d < g.valueDim; ++d)
          rowDot += dO.reals[g.outAt(span, i, h, d)] * o.reals[g.outAt(span, i, h, d)];
        double rowLse = lse.reals[g.rowAt(span, i, h)];
        for (int64_t j = 0; j < g.visible(span, i); ++j) {
          double p = std::exp(attentionScore(g, span, q, k, i, j, h) - rowLse);
          double dp = 0;
          for (int64_t d = 0; d < g.valueDim; ++d) {
            dv.reals[g.valueAt(span, j, kh, d)] += p * dO.reals[g.outAt(span, i, h, d)];
            dp += dO.reals[g.outAt(span, i, h, d)] * v.reals[g.valueAt(span, j, kh, d)];
          }
          double ds = p * (dp - rowDot) * g.scale;
          for (int64_t d = 0; d < g.dim; ++d) {
            dq.reals[g.queryAt(span, i, h, d)] += ds * k.reals[g.keyAt(span, j, kh, d)];
            dk.reals[g.keyAt(span, j, kh, d)] += ds * q.reals[g.queryAt(span, i, h, d)];
          }
        }
      }
    }
  }
  if (failed(frame.set(op, op.getGradQuery(), std::move(dq))) ||
      failed(frame.set(op, op.getGradKey(), std::move(dk))))
    return failure();
  return frame.set(op, op.getGradValue(), std::move(dv));
}

} // namespace

std::optional<LogicalResult> evaluateCompositeOp(Operation *op, EvalFrame &frame) {
  return OpRuleSwitch(op, frame.probing)
      .Case([&](LayerNormOp norm) {
        return evalNorm(op, frame, norm.getInput(), norm.getGamma(), norm.getBeta(),
                        norm.getEpsilon().convertToDouble(), /*centered=*/true);
      })
      .Case([&](RmsNormOp norm) {
        return evalNorm(op, frame, norm.getInput(), norm.getGamma(), Value(),
                        norm.getEpsilon().convertToDouble(), /*centered=*/false);
      })
      .Case([&](GeluOp gelu) { return evalGelu(gelu, frame); })
      .Case([&](EmbeddingOp embedding) { return evalEmbedding(embedding, frame); })
      .Case([&](AttentionOp attention) { return evalAttention(attention, frame); })
      .Case([&](AttentionGradOp grad) { return evalAttentionGrad(grad, frame); })
      .Default();
}

} // namespace mlir::lmc::eval
