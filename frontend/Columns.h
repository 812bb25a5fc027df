//===- Columns.h - feature columns, as the builder records them -*- C++ -*-===//
//
// A feature column is a description: which raw feature it reads and how it
// turns it into ids or dense values. Columns are created and validated by
// ModelBuilder's methods (ModelBuilder.h), which own them; ops are emitted
// only when a column is consumed by inputLayer or sequenceInput.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FRONTEND_COLUMNS_H
#define LMC_FRONTEND_COLUMNS_H

#include "dialects/lmc/IR/LmcDialect.h"

#include "mlir/IR/Location.h"

#include <optional>
#include <string>
#include <vector>

namespace lmc::frontend {

using mlir::lmc::Combiner;
using mlir::lmc::Normalizer;

/// The type of a raw categorical feature: strings arrive fingerprinted,
/// integers as they are.
enum class KeyType { String, Int64 };

/// The type of a raw numeric feature; int64 values are rounded to float32
/// once, as TensorFlow's cast does.
enum class NumericType { Float32, Int64 };

struct ColumnNode;
/// A column handle. Owned by the ModelBuilder that made it; null when the
/// builder reported an error while making it.
using Column = const ColumnNode *;

/// One input of a crossed column: a raw feature (`column` null; strings
/// crossed by fingerprint, integers by value; `width` values per example,
/// crossed as a Cartesian product) or a categorical column, crossed by id.
struct CrossedInput {
  std::string key;
  KeyType keyType = KeyType::String;
  int64_t width = 1;
  Column column = nullptr;
};

enum class ColumnKind {
  Numeric,     // numeric_column, sequence_numeric_column
  Bucketized,  // bucketized_column
  Vocabulary,  // categorical_column_with_vocabulary_{list,file}
  HashBucket,  // categorical_column_with_hash_bucket
  Identity,    // categorical_column_with_identity
  Crossed,     // crossed_column
  Weighted,    // weighted_categorical_column
  Embedding,   // embedding_column, shared_embeddings
  Indicator,   // indicator_column
};

struct ColumnNode {
  ColumnNode(ColumnKind kind, std::string name, mlir::Location loc)
      : kind(kind), name(std::move(name)), loc(loc) {}

  ColumnKind kind;
  std::string name;
  mlir::Location loc;
  /// sequence_* columns hold a variable-length list per example ([B, S]).
  bool sequence = false;

  // The raw feature read by leaf columns.
  std::string key;
  KeyType keyType = KeyType::String;
  /// Values per example: numeric shape, or categorical width k of [B, k].
  std::vector<int64_t> shape{1};

  // Numeric.
  NumericType numericType = NumericType::Float32;
  Normalizer normalizer = Normalizer::none;
  std::optional<double> mean, stddev, min, max, defaultValue;

  // Bucketized.
  std::vector<float> boundaries;

  // Vocabulary: fingerprints of the entries, in order.
  std::vector<int64_t> vocabulary;
  int64_t numOovBuckets = 0;
  std::optional<int64_t> defaultId;

  // Hash bucket, identity, crossed.
  int64_t numBuckets = 0;
  std::optional<uint64_t> hashKey;

  // Weighted: the key of the weights, same shape as the ids.
  std::string weightKey;

  // Embedding.
  int64_t dimension = 0;
  Combiner combiner = Combiner::mean;
  std::optional<float> maxNorm;
  /// The parameter holding the table: emb.<name>, or the shared name.
  std::string tableName;
  /// Initializer stddev (TensorFlow: truncated normal, 1/sqrt(dimension)).
  double initializerStddev = 0;

  /// Parents: the source of bucketized, the categorical column of
  /// weighted/embedding/indicator, the crossed inputs.
  std::vector<Column> inputs;
  /// A crossed column's inputs in the declared order, which decides the
  /// hash: raw keys and the categorical columns of `inputs`. A crossed input
  /// is already flattened into its own inputs (TensorFlow crosses leaves).
  std::vector<CrossedInput> crossedInputs;

  bool isCategorical() const {
    return kind != ColumnKind::Numeric && kind != ColumnKind::Embedding &&
           kind != ColumnKind::Indicator;
  }
  /// How many distinct ids a categorical column produces.
  int64_t idSpace() const;
  /// Values per example: the product of `shape`.
  int64_t width() const;
};

} // namespace lmc::frontend

#endif // LMC_FRONTEND_COLUMNS_H
