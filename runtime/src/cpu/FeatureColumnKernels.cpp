// FeatureColumnKernels.cpp - the CPU kernels of lmc's feature-column ops.

#include "cpu/FeatureColumnKernels.h"

#include "lmc/fingerprint.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lmc::cpu {

template <typename Real>
void numeric(const Real *input, size_t count,
             const NumericParameters<Real> &params, Real *output) {
  for (size_t i = 0; i < count; ++i) {
    Real x = input[i];
    if (std::isnan(x) && params.defaultValue)
      x = *params.defaultValue;
    switch (params.normalizer) {
    case Normalizer::None:
      break;
    case Normalizer::ZScore:
      x = (x - params.mean) / params.stddev;
      break;
    case Normalizer::MinMax:
      x = (x - params.min) / (params.max - params.min);
      break;
    case Normalizer::Log1p:
      x = std::log1p(x);
      break;
    }
    output[i] = x;
  }
}

namespace {
/// Zero for a subnormal: TensorFlow's CPU kernels run with denormals flushed.
float flushSubnormal(float value) {
  return std::fabs(value) < std::numeric_limits<float>::min() ? 0.0f : value;
}
} // namespace

void bucketize(const float *input, size_t count,
               const std::vector<float> &boundaries, int64_t *output) {
  std::vector<float> flushed(boundaries.size());
  std::transform(boundaries.begin(), boundaries.end(), flushed.begin(), flushSubnormal);
  for (size_t i = 0; i < count; ++i)
    output[i] = std::upper_bound(flushed.begin(), flushed.end(), flushSubnormal(input[i])) -
                flushed.begin();
}

void hashBucket(const int64_t *fingerprints, size_t count, int64_t buckets,
                int64_t *output) {
  for (size_t i = 0; i < count; ++i)
    output[i] = int64_t(uint64_t(fingerprints[i]) % uint64_t(buckets));
}

VocabularyIndex::VocabularyIndex(const std::vector<int64_t> &fingerprints,
                                 int64_t numOovBuckets,
                                 std::optional<int64_t> defaultValue)
    : size(int64_t(fingerprints.size())), numOovBuckets(numOovBuckets),
      defaultValue(defaultValue.value_or(-1)) {
  for (size_t i = 0; i < fingerprints.size(); ++i)
    positions.emplace(fingerprints[i], int64_t(i));
}

int64_t VocabularyIndex::lookup(int64_t fingerprint) const {
  auto found = positions.find(fingerprint);
  if (found != positions.end())
    return found->second;
  if (numOovBuckets > 0)
    return size + int64_t(uint64_t(fingerprint) % uint64_t(numOovBuckets));
  return defaultValue;
}

void vocabLookup(const int64_t *fingerprints, size_t count,
                 const VocabularyIndex &index, int64_t *output) {
  for (size_t i = 0; i < count; ++i)
    output[i] = index.lookup(fingerprints[i]);
}

void identity(const int64_t *ids, size_t count, int64_t buckets,
              std::optional<int64_t> defaultValue, int64_t *output) {
  for (size_t i = 0; i < count; ++i)
    output[i] = ids[i] >= 0 && ids[i] < buckets ? ids[i]
                                                : defaultValue.value_or(-1);
}

void cross(const std::vector<const int64_t *> &inputs,
           const std::vector<size_t> &widths, size_t batch, uint64_t hashKey,
           int64_t buckets, int64_t *output) {
  size_t combinations = 1;
  for (size_t width : widths)
    combinations *= width;
  std::vector<size_t> index(inputs.size());
  std::vector<uint64_t> values(inputs.size());
  for (size_t b = 0; b < batch; ++b) {
    std::fill(index.begin(), index.end(), 0);
    for (size_t c = 0; c < combinations; ++c) {
      for (size_t i = 0; i < inputs.size(); ++i)
        values[i] = uint64_t(inputs[i][b * widths[i] + index[i]]);
      output[b * combinations + c] = int64_t(lmc_cross_bucket(
          values.data(), values.size(), hashKey, uint64_t(buckets)));
      // Advance the last input fastest, like an odometer.
      for (size_t i = inputs.size(); i-- > 0;) {
        if (++index[i] < widths[i])
          break;
        index[i] = 0;
      }
    }
  }
}

template <typename Real>
void embeddingBag(const Real *table, int64_t rows, int64_t dim,
                  const int64_t *ids, const Real *weights, size_t batch,
                  size_t width, Combiner combiner, std::optional<Real> maxNorm,
                  Real *output) {
  std::vector<Real> row(static_cast<size_t>(dim));
  for (size_t b = 0; b < batch; ++b) {
    Real *out = output + b * size_t(dim);
    std::fill(out, out + dim, Real(0));
    Real weightSum = 0, weightSquares = 0;
    int64_t count = 0;
    for (size_t j = 0; j < width; ++j) {
      int64_t id = ids[b * width + j];
      if (id < 0 || id >= rows)
        continue; // missing
      Real weight = weights ? weights[b * width + j] : Real(1);
      // TensorFlow prunes non-positive weights unless it sums.
      if (combiner != Combiner::Sum && !(weight > 0))
        continue;
      std::copy(table + id * dim, table + (id + 1) * dim, row.begin());
      if (maxNorm) {
        // clip_by_norm: row * max_norm / max(norm, max_norm), every row.
        Real norm = 0;
        for (Real v : row)
          norm += v * v;
        norm = std::sqrt(norm);
        Real divisor = std::max(norm, *maxNorm);
        for (Real &v : row)
          v = v * *maxNorm / divisor;
      }
      for (int64_t d = 0; d < dim; ++d)
        out[d] += weight * row[size_t(d)];
      weightSum += weight;
      weightSquares += weight * weight;
      ++count;
    }
    if (combiner == Combiner::Sum || count == 0)
      continue;
    if (weights) {
      // Weighted: divided by the weights' sum or root sum of squares.
      Real divisor = combiner == Combiner::Mean ? weightSum : std::sqrt(weightSquares);
      for (int64_t d = 0; d < dim; ++d)
        out[d] /= divisor;
      continue;
    }
    // Unweighted (sparse_segment_mean / _sqrt_n): below 10 ids TensorFlow
    // multiplies by the reciprocal, from 10 on it divides.
    Real divisor = combiner == Combiner::Mean ? Real(count) : std::sqrt(Real(count));
    Real reciprocal = Real(1) / divisor;
    for (int64_t d = 0; d < dim; ++d)
      out[d] = count < 10 ? out[d] * reciprocal : out[d] / divisor;
  }
}

template <typename Real>
void indicator(const int64_t *ids, const Real *weights, size_t batch,
               size_t width, int64_t buckets, Real *output) {
  std::fill(output, output + batch * size_t(buckets), Real(0));
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < width; ++j) {
      int64_t id = ids[b * width + j];
      if (id >= 0 && id < buckets)
        output[b * size_t(buckets) + size_t(id)] +=
            weights ? weights[b * width + j] : Real(1);
    }
}

#define LMC_INSTANTIATE_REAL_KERNELS(Real)                                    \
  template void numeric<Real>(const Real *, size_t,                           \
                              const NumericParameters<Real> &, Real *);       \
  template void embeddingBag<Real>(const Real *, int64_t, int64_t,            \
                                   const int64_t *, const Real *, size_t,     \
                                   size_t, Combiner, std::optional<Real>,     \
                                   Real *);                                   \
  template void indicator<Real>(const int64_t *, const Real *, size_t,        \
                                size_t, int64_t, Real *);
LMC_INSTANTIATE_REAL_KERNELS(float)
LMC_INSTANTIATE_REAL_KERNELS(double)
#undef LMC_INSTANTIATE_REAL_KERNELS

} // namespace lmc::cpu
