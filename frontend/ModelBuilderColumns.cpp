//===- ModelBuilderColumns.cpp - creating and validating columns ----------===//
//
// Each method checks its arguments with the rules TensorFlow's feature
// columns apply and records the column; nothing is emitted here.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "frontend/Vocabulary.h"

#include "compiler/Registration.h"
#include "lmc/fingerprint.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;

namespace lmc::frontend {

Location SourceLocations::of(llvm::StringRef field, MLIRContext *context) const {
  auto it = fields.find(field);
  if (it != fields.end())
    return it->second;
  return declaration ? *declaration : Location(UnknownLoc::get(context));
}

Location SourceLocations::of(llvm::StringRef field, size_t entry,
                             MLIRContext *context) const {
  auto it = fields.find((field + "[" + llvm::Twine(entry) + "]").str());
  return it != fields.end() ? it->second : of(field, context);
}

std::string formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", value);
  return text;
}

ModelBuilder::ModelBuilder(MLIRContext &context, llvm::StringRef name,
                           Location loc)
    : context(context), builder(&context) {
  context.loadDialect<mlir::lmc::LmcDialect, func::FuncDialect>();
  module = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(module->getBody());
  function = builder.create<func::FuncOp>(loc, name,
                                          builder.getFunctionType({}, {}));
  body = function.addEntryBlock();
  builder.setInsertionPointToEnd(body);
}

InFlightDiagnostic ModelBuilder::error(Location loc) {
  hasErrors = true;
  return mlir::emitError(loc);
}

Column ModelBuilder::makeColumn(ColumnNode node) {
  if (columnsByName.count(node.name)) {
    error(node.loc) << "column '" << node.name
                    << "' is declared twice; column names must be unique";
    return nullptr;
  }
  columns.push_back(std::move(node));
  Column column = &columns.back();
  columnsByName[column->name] = column;
  return column;
}

bool ModelBuilder::checkShape(llvm::StringRef column,
                              const std::vector<int64_t> &shape,
                              const SourceLocations &at) {
  if (!shape.empty() && llvm::all_of(shape, [](int64_t d) { return d > 0; }))
    return true;
  InFlightDiagnostic diag = error(at.of("shape", &context));
  diag << "column '" << column
       << "', field 'shape': must be a non-empty list of positive sizes, got [";
  llvm::interleaveComma(shape, diag);
  diag << "]";
  return false;
}

Column ModelBuilder::numericColumn(llvm::StringRef key,
                                   const NumericOptions &options, bool sequence,
                                   const SourceLocations &at) {
  if (!checkShape(key, options.shape, at))
    return nullptr;
  ColumnNode node{ColumnKind::Numeric, key.str(), at.of("", &context)};
  node.sequence = sequence;
  node.key = key.str();
  node.shape = options.shape;
  node.numericType = options.type;
  node.normalizer = options.normalizer;
  node.mean = options.mean;
  node.stddev = options.stddev;
  node.min = options.min;
  node.max = options.max;
  node.defaultValue = options.defaultValue;

  bool zscore = options.normalizer == Normalizer::zscore;
  bool minmax = options.normalizer == Normalizer::minmax;
  struct Field {
    llvm::StringRef name;
    bool given, belongs;
  } fields[] = {{"mean", bool(options.mean), zscore},
                {"std", bool(options.stddev), zscore},
                {"min", bool(options.min), minmax},
                {"max", bool(options.max), minmax}};
  llvm::StringRef normalizer = mlir::lmc::stringifyNormalizer(options.normalizer);
  for (const Field &field : fields) {
    if (field.given != field.belongs) {
      error(at.of(field.given ? field.name : "normalizer", &context))
          << "column '" << key << "', field '" << field.name << "': the "
          << normalizer << " normalizer "
          << (field.given ? "takes no " : "needs ") << field.name;
      return nullptr;
    }
  }
  if (options.type == NumericType::Int64 && options.defaultValue &&
      !(std::trunc(*options.defaultValue) == *options.defaultValue &&
        std::fabs(*options.defaultValue) <= 9007199254740992.0)) {
    error(at.of("default_value", &context))
        << "column '" << key << "', field 'default_value': an int64 column's default must be "
        << "an integer of magnitude at most 2^53, got " << formatNumber(*options.defaultValue);
    return nullptr;
  }
  if (zscore && !(*options.stddev > 0)) {
    error(at.of("std", &context)) << "column '" << key
                                  << "', field 'std': must be positive, got "
                                  << formatNumber(*options.stddev);
    return nullptr;
  }
  if (minmax && !(*options.min < *options.max)) {
    error(at.of("max", &context))
        << "column '" << key << "', field 'max': must exceed min "
        << formatNumber(*options.min) << ", got " << formatNumber(*options.max);
    return nullptr;
  }
  return makeColumn(std::move(node));
}

Column ModelBuilder::numeric(llvm::StringRef key, const NumericOptions &options,
                             const SourceLocations &at) {
  return numericColumn(key, options, /*sequence=*/false, at);
}

Column ModelBuilder::sequenceNumeric(llvm::StringRef key,
                                     const NumericOptions &options,
                                     const SourceLocations &at) {
  // Each token holds a vector: the tokens' values concatenate along one axis.
  if (options.shape.size() > 1) {
    error(at.of("shape", &context))
        << "column '" << key << "', field 'shape': a sequence_numeric column's shape must be [k], "
           "one dimension";
    return nullptr;
  }
  return numericColumn(key, options, /*sequence=*/true, at);
}

Column ModelBuilder::bucketized(Column source, std::vector<float> boundaries,
                                const SourceLocations &at) {
  if (!source)
    return nullptr;
  std::string name = source->name + "_bucketized";
  if (source->kind != ColumnKind::Numeric) {
    error(at.of("source", &context))
        << "column '" << name << "', field 'source': '" << source->name
        << "' is not a numeric column";
    return nullptr;
  }
  if (boundaries.empty()) {
    error(at.of("boundaries", &context))
        << "column '" << name << "', field 'boundaries': must not be empty";
    return nullptr;
  }
  if (source->sequence && source->width() > 1) {
    // Each token would need k ids; a sequence's tokens have one.
    error(at.of("source", &context))
        << "column '" << name << "', field 'source': '" << source->name
        << "' is a sequence of [" << source->width()
        << "] values; only a sequence of single values can be bucketized";
    return nullptr;
  }
  for (size_t i = 0; i + 1 < boundaries.size(); ++i) {
    if (!(boundaries[i] < boundaries[i + 1])) {
      error(at.of("boundaries", i + 1, &context))
          << "column '" << name
          << "', field 'boundaries': must be sorted and free of duplicates, but "
          << formatNumber(boundaries[i + 1]) << " follows "
          << formatNumber(boundaries[i]);
      return nullptr;
    }
  }
  ColumnNode node{ColumnKind::Bucketized, name, at.of("", &context)};
  node.sequence = source->sequence;
  node.shape = source->shape;
  node.boundaries = std::move(boundaries);
  node.inputs = {source};
  return makeColumn(std::move(node));
}

Column ModelBuilder::vocabularyColumn(llvm::StringRef key,
                                      const std::vector<std::string> &entries,
                                      const VocabularyOptions &options,
                                      bool sequence,
                                      const SourceLocations &at) {
  if (entries.empty()) {
    error(at.of("vocabulary", &context))
        << "column '" << key << "', field 'vocabulary': must not be empty";
    return nullptr;
  }
  if (options.numOovBuckets < 0) {
    error(at.of("num_oov_buckets", &context))
        << "column '" << key
        << "', field 'num_oov_buckets': must not be negative, got "
        << options.numOovBuckets;
    return nullptr;
  }
  if (options.numOovBuckets > 0 && options.defaultValue) {
    error(at.of("default_value", &context))
        << "column '" << key
        << "', field 'default_value': cannot be given with num_oov_buckets";
    return nullptr;
  }
  size_t badEntry = 0;
  llvm::Expected<VocabularyTable> table =
      compileVocabulary(entries, options.keyType, badEntry);
  if (!table) {
    error(at.of("vocabulary", badEntry, &context))
        << "column '" << key << "', field 'vocabulary': "
        << llvm::toString(table.takeError());
    return nullptr;
  }
  std::optional<ColumnNode> node =
      leafCategorical(ColumnKind::Vocabulary, key, sequence, options, at);
  if (!node)
    return nullptr;
  node->vocabulary = std::move(table->fingerprints);
  node->numOovBuckets = options.numOovBuckets;
  node->defaultId = options.defaultValue;
  return makeColumn(std::move(*node));
}

Column ModelBuilder::categoricalWithVocabularyList(
    llvm::StringRef key, const std::vector<std::string> &vocabulary,
    const VocabularyOptions &options, const SourceLocations &at) {
  return vocabularyColumn(key, vocabulary, options, /*sequence=*/false, at);
}

Column ModelBuilder::sequenceCategoricalWithVocabularyList(
    llvm::StringRef key, const std::vector<std::string> &vocabulary,
    const VocabularyOptions &options, const SourceLocations &at) {
  return vocabularyColumn(key, vocabulary, options, /*sequence=*/true, at);
}

std::optional<std::vector<std::string>>
ModelBuilder::readVocabulary(llvm::StringRef key, llvm::StringRef path,
                             const VocabularyOptions &options,
                             const SourceLocations &at) {
  if (options.size && *options.size < 1) {
    error(at.of("vocabulary_size", &context))
        << "column '" << key
        << "', field 'vocabulary_size': must be positive, got " << *options.size;
    return std::nullopt;
  }
  llvm::Expected<std::vector<std::string>> entries =
      readVocabularyFile(path, options.size);
  if (!entries) {
    error(at.of("vocabulary_file", &context))
        << "column '" << key << "', field 'vocabulary_file': "
        << llvm::toString(entries.takeError());
    return std::nullopt;
  }
  return std::move(*entries);
}

Column ModelBuilder::categoricalWithVocabularyFile(
    llvm::StringRef key, llvm::StringRef path, const VocabularyOptions &options,
    const SourceLocations &at) {
  auto entries = readVocabulary(key, path, options, at);
  return entries ? vocabularyColumn(key, *entries, options, false, at) : nullptr;
}

Column ModelBuilder::sequenceCategoricalWithVocabularyFile(
    llvm::StringRef key, llvm::StringRef path, const VocabularyOptions &options,
    const SourceLocations &at) {
  auto entries = readVocabulary(key, path, options, at);
  return entries ? vocabularyColumn(key, *entries, options, true, at) : nullptr;
}

std::optional<ColumnNode>
ModelBuilder::leafCategorical(ColumnKind kind, llvm::StringRef key,
                              bool sequence, const CategoricalOptions &options,
                              const SourceLocations &at) {
  if (!checkShape(key, options.shape, at))
    return std::nullopt;
  ColumnNode node{kind, key.str(), at.of("", &context)};
  node.sequence = sequence;
  node.key = key.str();
  node.keyType = options.keyType;
  node.shape = options.shape;
  return node;
}

// TensorFlow refuses hash_bucket_size <= 1 for hashed and crossed columns.
static constexpr int64_t kMinHashBuckets = 2;

Column ModelBuilder::hashBucketColumn(llvm::StringRef key, int64_t buckets,
                                      bool sequence,
                                      const CategoricalOptions &options,
                                      const SourceLocations &at) {
  if (buckets < kMinHashBuckets) {
    error(at.of("hash_bucket_size", &context))
        << "column '" << key
        << "', field 'hash_bucket_size': must be greater than 1, got "
        << buckets;
    return nullptr;
  }
  std::optional<ColumnNode> node =
      leafCategorical(ColumnKind::HashBucket, key, sequence, options, at);
  if (!node)
    return nullptr;
  node->numBuckets = buckets;
  return makeColumn(std::move(*node));
}

Column ModelBuilder::identityColumn(llvm::StringRef key, int64_t buckets,
                                    std::optional<int64_t> defaultValue,
                                    bool sequence,
                                    const CategoricalOptions &options,
                                    const SourceLocations &at) {
  if (buckets < 1) {
    error(at.of("num_buckets", &context))
        << "column '" << key
        << "', field 'num_buckets': must be at least 1, got " << buckets;
    return nullptr;
  }
  if (defaultValue && (*defaultValue < 0 || *defaultValue >= buckets)) {
    error(at.of("default_value", &context))
        << "column '" << key << "', field 'default_value': " << *defaultValue
        << " is not in [0, " << buckets << ")";
    return nullptr;
  }
  CategoricalOptions ids = options;
  ids.keyType = KeyType::Int64;
  std::optional<ColumnNode> node =
      leafCategorical(ColumnKind::Identity, key, sequence, ids, at);
  if (!node)
    return nullptr;
  node->numBuckets = buckets;
  node->defaultId = defaultValue;
  return makeColumn(std::move(*node));
}

Column ModelBuilder::categoricalWithHashBucket(llvm::StringRef key,
                                               int64_t buckets,
                                               const CategoricalOptions &options,
                                               const SourceLocations &at) {
  return hashBucketColumn(key, buckets, /*sequence=*/false, options, at);
}

Column ModelBuilder::sequenceCategoricalWithHashBucket(
    llvm::StringRef key, int64_t buckets, const CategoricalOptions &options,
    const SourceLocations &at) {
  return hashBucketColumn(key, buckets, /*sequence=*/true, options, at);
}

Column ModelBuilder::categoricalWithIdentity(llvm::StringRef key,
                                             int64_t buckets,
                                             std::optional<int64_t> defaultValue,
                                             const CategoricalOptions &options,
                                             const SourceLocations &at) {
  return identityColumn(key, buckets, defaultValue, false, options, at);
}

Column ModelBuilder::sequenceCategoricalWithIdentity(
    llvm::StringRef key, int64_t buckets, std::optional<int64_t> defaultValue,
    const CategoricalOptions &options, const SourceLocations &at) {
  return identityColumn(key, buckets, defaultValue, true, options, at);
}

Column ModelBuilder::crossed(
    const std::vector<std::pair<std::string, KeyType>> &keys,
    const std::vector<Column> &crossedColumns, int64_t buckets,
    std::optional<uint64_t> hashKey, const SourceLocations &at) {
  // Keys first, then columns: entry j of "keys", then of "columns".
  std::vector<CrossedInput> inputs;
  std::vector<CrossedEntry> entries;
  for (auto [j, key] : llvm::enumerate(keys)) {
    inputs.push_back({key.first, key.second, 1, nullptr});
    entries.push_back({"keys", j});
  }
  for (auto [j, column] : llvm::enumerate(crossedColumns)) {
    inputs.push_back({"", KeyType::String, 1, column});
    entries.push_back({"columns", j});
  }
  return crossed(inputs, buckets, hashKey, at, entries);
}

Column ModelBuilder::crossed(const std::vector<CrossedInput> &declared, int64_t buckets,
                             std::optional<uint64_t> hashKey, const SourceLocations &at,
                             std::vector<CrossedEntry> entries) {
  for (size_t j = entries.size(); j < declared.size(); ++j)
    entries.push_back({"inputs", j});
  for (const CrossedInput &input : declared)
    if (!input.column && input.key.empty())
      return nullptr; // a column that failed to be declared, reported already
  // TensorFlow names a cross after its sorted leaves (a crossed input's own
  // inputs, not its name).
  std::vector<std::string> names;
  for (const CrossedInput &input : declared) {
    if (input.column && input.column->kind == ColumnKind::Crossed)
      for (const CrossedInput &leaf : input.column->crossedInputs)
        names.push_back(leaf.column ? leaf.column->name : leaf.key);
    else
      names.push_back(input.column ? input.column->name : input.key);
  }
  llvm::sort(names);
  std::string name = llvm::join(names, "_X_");
  auto entryError = [&](size_t j) -> InFlightDiagnostic {
    const CrossedEntry &entry = entries[j];
    InFlightDiagnostic diag = error(at.of(entry.field, entry.index, &context));
    diag << "column '" << name << "', field '" << entry.field << "': ";
    return diag;
  };
  // The leaves, in order: a crossed input is replaced by its own inputs.
  std::vector<CrossedInput> leaves;
  std::vector<size_t> declaredAs; // the declared entry of each leaf
  for (auto [j, input] : llvm::enumerate(declared)) {
    if (input.column && input.column->kind == ColumnKind::Crossed) {
      for (const CrossedInput &leaf : input.column->crossedInputs) {
        leaves.push_back(leaf);
        declaredAs.push_back(j);
      }
      continue;
    }
    leaves.push_back(input);
    declaredAs.push_back(j);
  }
  // What each leaf reads, to find an input crossed with itself.
  std::vector<std::string> parts;
  for (auto [i, leaf] : llvm::enumerate(leaves)) {
    if (leaf.column && (!leaf.column->isCategorical() ||
                        leaf.column->kind == ColumnKind::Weighted || leaf.column->sequence)) {
      entryError(declaredAs[i]) << "'" << leaf.column->name
                                << "' is not a categorical column of single examples";
      return nullptr;
    }
    if (!leaf.column && leaf.width < 1) {
      entryError(declaredAs[i]) << "key '" << leaf.key << "' must hold at least one value";
      return nullptr;
    }
    parts.push_back(leaf.column ? "column '" + leaf.column->name + "'"
                                : "key '" + leaf.key + "'");
  }
  if (parts.size() < 2) {
    std::string field = entries.empty() ? std::string("inputs") : entries.front().field;
    error(at.of(field, &context)) << "column '" << name << "', field '" << field
                                  << "': a cross needs at least two inputs, got "
                                  << parts.size();
    return nullptr;
  }
  for (size_t i = 0; i < parts.size(); ++i)
    for (size_t j = i + 1; j < parts.size(); ++j)
      if (parts[i] == parts[j]) {
        entryError(declaredAs[j]) << "crosses " << parts[i] << " with itself";
        return nullptr;
      }
  if (buckets < kMinHashBuckets) {
    error(at.of("hash_bucket_size", &context))
        << "column '" << name
        << "', field 'hash_bucket_size': must be greater than 1, got "
        << buckets;
    return nullptr;
  }
  ColumnNode node{ColumnKind::Crossed, name, at.of("", &context)};
  for (const CrossedInput &leaf : leaves)
    if (leaf.column)
      node.inputs.push_back(leaf.column);
  node.crossedInputs = std::move(leaves);
  node.numBuckets = buckets;
  node.hashKey = hashKey;
  return makeColumn(std::move(node));
}

// The categorical column a consumer reads; reports when it is something else.
bool ModelBuilder::checkCategorical(llvm::StringRef consumer, Column column,
                                    llvm::StringRef field,
                                    const SourceLocations &at) {
  if (column->isCategorical())
    return true;
  error(at.of(field, &context))
      << "column '" << consumer << "', field '" << field << "': '"
      << column->name << "' is not a categorical column";
  return false;
}

Column ModelBuilder::weightedCategorical(Column categorical,
                                         llvm::StringRef weightKey,
                                         const SourceLocations &at) {
  if (!categorical)
    return nullptr;
  std::string name = categorical->name + "_weighted_by_" + weightKey.str();
  if (!checkCategorical(name, categorical, "categorical", at))
    return nullptr;
  if (categorical->kind == ColumnKind::Weighted) {
    error(at.of("categorical", &context))
        << "column '" << name << "', field 'categorical': '"
        << categorical->name << "' is already weighted";
    return nullptr;
  }
  ColumnNode node{ColumnKind::Weighted, name, at.of("", &context)};
  node.sequence = categorical->sequence;
  node.shape = categorical->shape;
  node.weightKey = weightKey.str();
  node.inputs = {categorical};
  return makeColumn(std::move(node));
}

Column ModelBuilder::embeddingColumn(llvm::StringRef name, Column categorical,
                                     llvm::StringRef tableName,
                                     const EmbeddingOptions &options,
                                     const SourceLocations &at) {
  if (!checkCategorical(name, categorical, "categorical", at))
    return nullptr;
  if (options.dimension < 1) {
    error(at.of("dimension", &context))
        << "column '" << name << "', field 'dimension': must be at least 1, got "
        << options.dimension;
    return nullptr;
  }
  if (options.maxNorm && !(*options.maxNorm > 0)) {
    error(at.of("max_norm", &context))
        << "column '" << name << "', field 'max_norm': must be positive, got "
        << formatNumber(*options.maxNorm);
    return nullptr;
  }
  double stddev = options.initializerStddev.value_or(
      1.0 / std::sqrt(double(options.dimension)));
  if (!(stddev > 0)) {
    error(at.of("initializer_stddev", &context))
        << "column '" << name
        << "', field 'initializer_stddev': must be positive, got "
        << formatNumber(stddev);
    return nullptr;
  }
  ColumnNode node{ColumnKind::Embedding, name.str(), at.of("", &context)};
  node.sequence = categorical->sequence;
  node.dimension = options.dimension;
  node.combiner = options.combiner;
  node.maxNorm = options.maxNorm;
  node.initializerStddev = stddev;
  node.tableName = tableName.str();
  node.inputs = {categorical};
  return makeColumn(std::move(node));
}

Column ModelBuilder::embedding(Column categorical,
                               const EmbeddingOptions &options,
                               const SourceLocations &at) {
  if (!categorical)
    return nullptr;
  return embeddingColumn(categorical->name + "_embedding", categorical,
                         "emb." + categorical->name, options, at);
}

std::vector<Column>
ModelBuilder::sharedEmbeddings(const std::vector<Column> &categoricals,
                               const EmbeddingOptions &options,
                               const SourceLocations &at) {
  std::vector<Column> result;
  if (categoricals.empty() || llvm::is_contained(categoricals, nullptr))
    return std::vector<Column>(categoricals.size(), nullptr);
  // TensorFlow names the shared table after the columns it serves, sorted
  // by name whatever order they are given in.
  std::vector<std::string> names;
  for (Column column : categoricals)
    names.push_back(column->name);
  llvm::sort(names);
  std::string sharedName = llvm::join(names, "_");
  sharedName += "_shared_embedding";
  for (Column column : categoricals) {
    if (column->isCategorical() &&
        column->idSpace() != categoricals.front()->idSpace()) {
      error(at.of("categorical_columns", &context))
          << "column '" << sharedName << "', field 'categorical_columns': '"
          << column->name << "' has " << column->idSpace() << " ids and '"
          << categoricals.front()->name << "' "
          << categoricals.front()->idSpace()
          << "; shared embeddings need one id space";
      return std::vector<Column>(categoricals.size(), nullptr);
    }
    result.push_back(embeddingColumn(column->name + "_shared_embedding",
                                     column, "emb." + sharedName, options, at));
  }
  return result;
}

Column ModelBuilder::indicator(Column categorical, const SourceLocations &at) {
  if (!categorical)
    return nullptr;
  std::string name = categorical->name + "_indicator";
  if (!checkCategorical(name, categorical, "categorical", at))
    return nullptr;
  ColumnNode node{ColumnKind::Indicator, name, at.of("", &context)};
  node.sequence = categorical->sequence;
  node.inputs = {categorical};
  return makeColumn(std::move(node));
}

} // namespace lmc::frontend
