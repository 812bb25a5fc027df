// OpSlots.h - where each op's attributes sit in an instruction's `ints` and
// `reals`, by name. The artifact writer stores them through these slots and
// every backend reads them through the same ones, so no layer counts
// positions; Ops.def's attribute counts are the slot counts (checked in
// OpTable.h).

#ifndef LMC_RUNTIME_ARTIFACT_OPSLOTS_H
#define LMC_RUNTIME_ARTIFACT_OPSLOTS_H

#include <cstddef>

namespace lmc::ops::slot {

// Each namespace is an op (or ops sharing a layout); kInts and kReals count
// its slots.

namespace compare { enum : size_t { predicate, kInts }; }
namespace matmul { enum : size_t { transposeLhs, transposeRhs, kInts }; }
/// reduce_sum and reduce_max.
namespace reduce { enum : size_t { axis, keepDims, kInts }; }
namespace softmax { enum : size_t { axis, kInts }; }
namespace concat { enum : size_t { axis, kInts }; }
namespace slice { enum : size_t { axis, start, limit, kInts }; }
/// An index into the package's constants.
namespace constant { enum : size_t { index, kInts }; }
/// layer_norm and rms_norm.
namespace norm { enum : size_t { epsilon, kReals }; }
namespace gelu { enum : size_t { tanh, kInts }; }
/// attention and attention_grad; scale is NaN for 1/sqrt(head dim).
namespace attention {
enum : size_t { causal, kInts };
enum : size_t { scale, kReals };
} // namespace attention

// Operands by name where readers pick them out (the ODS order, which the
// package keeps).
namespace attentionOperand {
enum : size_t { query, key, value, lengths, cuSeqlens, kOperands };
} // namespace attentionOperand
namespace attentionGradOperand {
enum : size_t { query, key, value, out, lse, gradOut, lengths, cuSeqlens, kOperands };
} // namespace attentionGradOperand
/// 0 sum, 1 mean, 2 max, 3 first.
namespace segmentReduce { enum : size_t { reduction, kInts }; }
namespace fcNumeric {
/// normalizer: 0 none, 1 zscore, 2 minmax, 3 log1p.
enum : size_t { normalizer, hasDefault, kInts };
enum : size_t { mean, stddev, min, max, defaultValue, kReals };
} // namespace fcNumeric
namespace fcHashBucket { enum : size_t { buckets, kInts }; }
namespace fcVocabLookup { enum : size_t { oovBuckets, hasDefault, defaultValue, kInts }; }
namespace fcIdentity { enum : size_t { buckets, hasDefault, defaultValue, kInts }; }
namespace fcCross { enum : size_t { buckets, hashKey, kInts }; }
namespace fcEmbeddingBag {
/// combiner: 0 sum, 1 mean, 2 sqrtn.
enum : size_t { combiner, hasMaxNorm, kInts };
enum : size_t { maxNorm, kReals };
} // namespace fcEmbeddingBag
namespace fcIndicator { enum : size_t { buckets, kInts }; }
/// all_reduce, reduce_scatter, all_gather, all_gather_rows, shard_slice, rank.
namespace collective { enum : size_t { ranks, kInts }; }
namespace adamwRows {
enum : size_t { ranks, tableRows, kInts };
enum : size_t { beta1, beta2, epsilon, weightDecay, kReals };
} // namespace adamwRows

} // namespace lmc::ops::slot

#endif // LMC_RUNTIME_ARTIFACT_OPSLOTS_H
