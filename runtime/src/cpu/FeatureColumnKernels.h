// FeatureColumnKernels.h - the CPU kernels of lmc's feature-column ops.
//
// One function per `lmc.fc.*` op, on plain row-major buffers, with
// TensorFlow's semantics (docs/dialect.md states each op's rule). The CPU
// backend runs these; they are also the reference the CUDA kernels are
// checked against. Categorical ids below zero mean "missing".

#ifndef LMC_RUNTIME_CPU_FEATURECOLUMNKERNELS_H
#define LMC_RUNTIME_CPU_FEATURECOLUMNKERNELS_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace lmc::cpu {

enum class Normalizer { None, ZScore, MinMax, Log1p };
enum class Combiner { Sum, Mean, SqrtN };

// The kernels that compute in floating point are templates instantiated for
// float (the backends) and double (the reference evaluator in compiler/).

template <typename Real> struct NumericParameters {
  Normalizer normalizer = Normalizer::None;
  Real mean = 0, stddev = 1, min = 0, max = 1;
  /// Replaces NaN (a missing value) before normalizing.
  std::optional<Real> defaultValue;
};

/// lmc.fc.numeric over `count` values.
template <typename Real>
void numeric(const Real *input, size_t count,
             const NumericParameters<Real> &params, Real *output);

/// lmc.fc.bucketize: the number of boundaries <= x (upper bound), in f32,
/// with subnormal values and boundaries read as zero (TensorFlow's CPU
/// kernels flush them); NaN lands in the last bucket.
void bucketize(const float *input, size_t count,
               const std::vector<float> &boundaries, int64_t *output);

/// lmc.fc.hash_bucket: uint64(fingerprint) % buckets.
void hashBucket(const int64_t *fingerprints, size_t count, int64_t buckets,
                int64_t *output);

/// lmc.fc.vocab_lookup's table: fingerprint -> position, built once.
class VocabularyIndex {
public:
  VocabularyIndex(const std::vector<int64_t> &fingerprints,
                  int64_t numOovBuckets, std::optional<int64_t> defaultValue);
  int64_t lookup(int64_t fingerprint) const;

private:
  std::unordered_map<int64_t, int64_t> positions;
  int64_t size, numOovBuckets, defaultValue;
};

void vocabLookup(const int64_t *fingerprints, size_t count,
                 const VocabularyIndex &index, int64_t *output);

/// lmc.fc.identity: ids in [0, buckets) pass, others become the default
/// (or -1, missing).
void identity(const int64_t *ids, size_t count, int64_t buckets,
              std::optional<int64_t> defaultValue, int64_t *output);

/// lmc.fc.cross over `batch` examples: input i is [batch, widths[i]];
/// output [batch, prod(widths)], the last input varying fastest.
void cross(const std::vector<const int64_t *> &inputs,
           const std::vector<size_t> &widths, size_t batch, uint64_t hashKey,
           int64_t buckets, int64_t *output);

/// lmc.fc.embedding_bag: table [rows, dim], ids and weights [batch, width],
/// output [batch, dim]. `weights` may be null (all 1).
template <typename Real>
void embeddingBag(const Real *table, int64_t rows, int64_t dim,
                  const int64_t *ids, const Real *weights, size_t batch,
                  size_t width, Combiner combiner, std::optional<Real> maxNorm,
                  Real *output);

/// lmc.fc.indicator: ids and weights [batch, width], output
/// [batch, buckets] of counts (or summed weights).
template <typename Real>
void indicator(const int64_t *ids, const Real *weights, size_t batch,
               size_t width, int64_t buckets, Real *output);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_FEATURECOLUMNKERNELS_H
