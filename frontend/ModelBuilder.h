//===- ModelBuilder.h - declare feature columns and a model -----*- C++ -*-===//
//
// The C++ frontend of lmc, in the spirit of tf.feature_column and Keras:
// columns are values you compose, model blocks consume them, and finish()
// returns one module in the lmc dialect holding the input transforms and the
// model as one function.
//
//   ModelBuilder model(context, "ranker");
//   NumericOptions ageOptions;
//   ageOptions.normalizer = Normalizer::zscore;
//   ageOptions.mean = 38;
//   ageOptions.stddev = 13;
//   Column age = model.numeric("age", ageOptions);
//   VocabularyOptions countryOptions;
//   countryOptions.numOovBuckets = 2;
//   Column country = model.categoricalWithVocabularyList(
//       "country", {"US", "DE", "JP"}, countryOptions);
//   EmbeddingOptions eight;
//   eight.dimension = 8;
//   mlir::Value features = model.inputLayer({age, model.embedding(country, eight)});
//   model.logits("logit", model.mlp(features, {64, 32}, Activation::Relu, "head"), 1);
//   mlir::OwningOpRef<mlir::ModuleOp> module = model.finish();
//
// Every argument is validated with TensorFlow's rules. A bad one is reported
// through the context's diagnostic handler, naming the column and the field,
// at the location given in `at` (the spec loader passes file:line:col);
// the call then returns a null handle, later calls accept it silently, and
// finish() returns null.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FRONTEND_MODELBUILDER_H
#define LMC_FRONTEND_MODELBUILDER_H

#include "frontend/Columns.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <deque>
#include <map>

namespace lmc::frontend {

/// Where the parts of one declaration came from: fields by name, list entries
/// as "field[i]". `of` falls back from an entry to its field and from a field
/// to the declaration's own location.
/// Where a crossed input was declared, for messages: entry `index` of
/// `field` ("inputs", or "keys" and "columns").
struct CrossedEntry {
  std::string field;
  size_t index;
};

struct SourceLocations {
  std::optional<mlir::Location> declaration;
  llvm::StringMap<mlir::Location> fields;
  mlir::Location of(llvm::StringRef field, mlir::MLIRContext *context) const;
  mlir::Location of(llvm::StringRef field, size_t entry,
                    mlir::MLIRContext *context) const;
};

/// A number as a person writes it: 25, 0.5, 1e-12.
std::string formatNumber(double value);

struct NumericOptions {
  std::vector<int64_t> shape{1};
  NumericType type = NumericType::Float32;
  std::optional<double> defaultValue;
  Normalizer normalizer = Normalizer::none;
  std::optional<double> mean, stddev, min, max;
};

struct CategoricalOptions {
  KeyType keyType = KeyType::String;
  std::vector<int64_t> shape{1};
};

struct VocabularyOptions : CategoricalOptions {
  int64_t numOovBuckets = 0;
  std::optional<int64_t> defaultValue;
  /// For files: read only the first `size` lines.
  std::optional<int64_t> size;
};

struct EmbeddingOptions {
  int64_t dimension = 0;
  Combiner combiner = Combiner::mean;
  std::optional<float> maxNorm;
  /// Defaults to TensorFlow's 1 / sqrt(dimension).
  std::optional<double> initializerStddev;
};

enum class Activation { None, Relu, Gelu, GeluTanh, Silu };

struct TransformerOptions {
  int64_t layers = 1, heads = 1, headDim = 0, ffn = 0;
  bool causal = false;
  Activation activation = Activation::GeluTanh;
};

enum class Pooling { Mean, First, Max };

enum class Loss { BinaryCrossEntropy, SoftmaxCrossEntropy, MeanSquaredError };
enum class LearningRateSchedule { Constant, LinearWarmup, Cosine };
enum class TrainingPrecision { FP32, FP16, BF16 };

/// How `lmc compile --train` trains the model: the loss on one output, the
/// label's example key, AdamW, the learning-rate schedule, the precision
/// and the ZeRO sharding. Defaults are PyTorch's AdamW's.
struct TrainingOptions {
  Loss loss = Loss::BinaryCrossEntropy;
  std::string label;
  /// The model output the loss reads; empty when the model has one output.
  std::string output;
  double learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01;
  LearningRateSchedule schedule = LearningRateSchedule::Constant;
  int64_t warmupSteps = 0, totalSteps = 0;
  TrainingPrecision precision = TrainingPrecision::FP32;
  /// 0 (no sharding) to 3; ranks that share the state.
  int64_t zeroStage = 0, ranks = 1;
};

/// A padded batch of sequences: values [B, S, D] and lengths [B].
struct Sequence {
  mlir::Value values, lengths;
  explicit operator bool() const { return values && lengths; }
};

class ModelBuilder {
public:
  /// `name` becomes the function's symbol. The context must have the lmc and
  /// func dialects registered (mlir::lmc::registerLmcDialects).
  ModelBuilder(mlir::MLIRContext &context, llvm::StringRef name,
               mlir::Location loc);
  ModelBuilder(mlir::MLIRContext &context, llvm::StringRef name)
      : ModelBuilder(context, name, mlir::UnknownLoc::get(&context)) {}

  //===--- Feature columns ------------------------------------------------===//

  Column numeric(llvm::StringRef key, const NumericOptions &options,
                 const SourceLocations &at = {});
  Column bucketized(Column source, std::vector<float> boundaries,
                    const SourceLocations &at = {});
  Column categoricalWithVocabularyList(llvm::StringRef key,
                                       const std::vector<std::string> &vocabulary,
                                       const VocabularyOptions &options,
                                       const SourceLocations &at = {});
  Column categoricalWithVocabularyFile(llvm::StringRef key,
                                       llvm::StringRef path,
                                       const VocabularyOptions &options,
                                       const SourceLocations &at = {});
  Column categoricalWithHashBucket(llvm::StringRef key, int64_t buckets,
                                   const CategoricalOptions &options,
                                   const SourceLocations &at = {});
  Column categoricalWithIdentity(llvm::StringRef key, int64_t buckets,
                                 std::optional<int64_t> defaultValue,
                                 const CategoricalOptions &options,
                                 const SourceLocations &at = {});
  /// `keys` are raw features (strings crossed by fingerprint, integers by
  /// value); `columns` are categorical columns crossed by id. Named as
  /// TensorFlow names it: the sorted input names joined by "_X_". TensorFlow's
  /// default hash key when absent.
  Column crossed(const std::vector<std::pair<std::string, KeyType>> &keys,
                 const std::vector<Column> &columns, int64_t buckets,
                 std::optional<uint64_t> hashKey,
                 const SourceLocations &at = {});
  /// TensorFlow's crossed_column(keys) with raw keys and categorical columns
  /// in any order: the order decides the hash. A crossed column among the
  /// inputs contributes its own inputs (TensorFlow crosses the leaves).
  /// Errors about input i are located at entries[i] (default: entry i of
  /// field "inputs").
  Column crossed(const std::vector<CrossedInput> &inputs, int64_t buckets,
                 std::optional<uint64_t> hashKey,
                 const SourceLocations &at = {},
                 std::vector<CrossedEntry> entries = {});
  Column weightedCategorical(Column categorical, llvm::StringRef weightKey,
                             const SourceLocations &at = {});
  Column embedding(Column categorical, const EmbeddingOptions &options,
                   const SourceLocations &at = {});
  /// One table for several categorical columns of one id space.
  std::vector<Column> sharedEmbeddings(const std::vector<Column> &categoricals,
                                       const EmbeddingOptions &options,
                                       const SourceLocations &at = {});
  Column indicator(Column categorical, const SourceLocations &at = {});

  /// The sequence_* forms: a variable-length list per example, arriving as a
  /// padded [B, S] batch plus `<key>.lengths`.
  Column sequenceNumeric(llvm::StringRef key, const NumericOptions &options,
                         const SourceLocations &at = {});
  Column sequenceCategoricalWithVocabularyList(
      llvm::StringRef key, const std::vector<std::string> &vocabulary,
      const VocabularyOptions &options, const SourceLocations &at = {});
  Column sequenceCategoricalWithVocabularyFile(llvm::StringRef key,
                                               llvm::StringRef path,
                                               const VocabularyOptions &options,
                                               const SourceLocations &at = {});
  Column sequenceCategoricalWithHashBucket(llvm::StringRef key, int64_t buckets,
                                           const CategoricalOptions &options,
                                           const SourceLocations &at = {});
  Column sequenceCategoricalWithIdentity(llvm::StringRef key, int64_t buckets,
                                         std::optional<int64_t> defaultValue,
                                         const CategoricalOptions &options,
                                         const SourceLocations &at = {});

  //===--- Model blocks ---------------------------------------------------===//

  /// Dense features [B, sum of widths] of numeric, embedding and indicator
  /// columns, concatenated in name order as TensorFlow's DenseFeatures does.
  mlir::Value inputLayer(const std::vector<Column> &columns,
                         const SourceLocations &at = {});
  /// Per-token features [B, S, D] of sequence columns, in name order.
  Sequence sequenceInput(const std::vector<Column> &columns,
                         const SourceLocations &at = {});
  /// `activation(x W + b)`, on [B, D] or [B, S, D].
  mlir::Value dense(mlir::Value input, int64_t units, Activation activation,
                    llvm::StringRef name, const SourceLocations &at = {});
  /// Dense layers `name.dense0, name.dense1, ...`, each with `activation`.
  mlir::Value mlp(mlir::Value input, const std::vector<int64_t> &units,
                  Activation activation, llvm::StringRef name,
                  const SourceLocations &at = {});
  mlir::Value layerNorm(mlir::Value input, llvm::StringRef name,
                        const SourceLocations &at = {});
  /// Post-LayerNorm encoder layers emitting lmc.attention over the padded
  /// batch with its lengths. Inputs narrower or wider than heads * headDim
  /// get a projection `name.input`.
  Sequence transformerEncoder(Sequence input, const TransformerOptions &options,
                              llvm::StringRef name,
                              const SourceLocations &at = {});
  mlir::Value pool(Sequence input, Pooling mode, const SourceLocations &at = {});
  mlir::Value concat(const std::vector<mlir::Value> &inputs,
                     const SourceLocations &at = {});
  /// Heads: a dense layer without activation whose result is the model
  /// output `name`, marked `lmc.head = "logits"` (scores for a sigmoid or
  /// softmax loss) or `"regression"` (values for a squared-error loss).
  mlir::Value logits(llvm::StringRef name, mlir::Value input, int64_t units,
                     const SourceLocations &at = {});
  mlir::Value regression(llvm::StringRef name, mlir::Value input,
                         int64_t units, const SourceLocations &at = {});
  /// Marks `value` as the model output `name`.
  void output(llvm::StringRef name, mlir::Value value,
              const SourceLocations &at = {});

  /// Declares how the model trains (the module's lmc.training); checked
  /// when the model is finished (the output must exist).
  void train(const TrainingOptions &options, const SourceLocations &at = {});

  /// The finished, verified module; null if any error was reported.
  mlir::OwningOpRef<mlir::ModuleOp> finish();

  /// True once an error has been reported.
  bool failed() const { return hasErrors; }

private:
  Column makeColumn(ColumnNode node);
  mlir::InFlightDiagnostic error(mlir::Location loc);
  std::optional<ColumnNode> leafCategorical(ColumnKind kind,
                                            llvm::StringRef key, bool sequence,
                                            const CategoricalOptions &options,
                                            const SourceLocations &at);
  Column hashBucketColumn(llvm::StringRef key, int64_t buckets, bool sequence,
                          const CategoricalOptions &options,
                          const SourceLocations &at);
  Column identityColumn(llvm::StringRef key, int64_t buckets,
                        std::optional<int64_t> defaultValue, bool sequence,
                        const CategoricalOptions &options,
                        const SourceLocations &at);
  Column embeddingColumn(llvm::StringRef name, Column categorical,
                         llvm::StringRef tableName,
                         const EmbeddingOptions &options,
                         const SourceLocations &at);
  bool checkCategorical(llvm::StringRef consumer, Column column,
                        llvm::StringRef field, const SourceLocations &at);
  Column vocabularyColumn(llvm::StringRef key,
                          const std::vector<std::string> &entries,
                          const VocabularyOptions &options, bool sequence,
                          const SourceLocations &at);
  std::optional<std::vector<std::string>>
  readVocabulary(llvm::StringRef key, llvm::StringRef path,
                 const VocabularyOptions &options, const SourceLocations &at);
  Column numericColumn(llvm::StringRef key, const NumericOptions &options,
                       bool sequence, const SourceLocations &at);
  bool checkShape(llvm::StringRef column, const std::vector<int64_t> &shape,
                  const SourceLocations &at);

  // Emission.
  mlir::Value rawInput(const ColumnNode &column, llvm::StringRef key,
                       llvm::StringRef ingest, mlir::Type elementType,
                       llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<double> defaults = {});
  mlir::Value sequenceLengths(const ColumnNode &column);
  void declareParse(const ColumnNode &column, llvm::StringRef key, bool variableLength);
  mlir::Value maskAbsent(const ColumnNode &column, llvm::StringRef key,
                         mlir::Value values, mlir::TypedAttr absent,
                         llvm::ArrayRef<int64_t> valueOfSlot = {});
  mlir::Value ids(const ColumnNode &column);
  mlir::Value emitIds(const ColumnNode &column);
  mlir::Value emitRawIds(const ColumnNode &column);
  mlir::Value weights(const ColumnNode &column);
  mlir::Value embeddingTable(const ColumnNode &column);
  mlir::Value denseFeature(const ColumnNode &column);
  mlir::Value numericValue(const ColumnNode &column);
  mlir::Value emitNumericValue(const ColumnNode &column);
  mlir::Value tokenFeature(const ColumnNode &column);
  mlir::Value parameter(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                        mlir::DictionaryAttr initializer, mlir::Location loc);
  mlir::DictionaryAttr initializer(llvm::StringRef kind,
                                   llvm::ArrayRef<std::pair<llvm::StringRef, double>> fields);
  mlir::Value head(llvm::StringRef kind, llvm::StringRef name,
                   mlir::Value input, int64_t units, const SourceLocations &at);
  mlir::Value affine(mlir::Value input, int64_t units,
                     llvm::StringRef kernelName, llvm::StringRef biasName,
                     mlir::Location loc);
  mlir::Value activate(mlir::Value value, Activation activation,
                       mlir::Location loc);
  mlir::Value add(mlir::Value lhs, mlir::Value rhs, mlir::Location loc);
  mlir::Value reshape(mlir::Value value, llvm::ArrayRef<int64_t> shape,
                      mlir::Location loc);
  mlir::Value layerNormWith(mlir::Value input, llvm::StringRef name,
                            float epsilon, mlir::Location loc);
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    mlir::Type element);

  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp function;
  mlir::Block *body;
  std::deque<ColumnNode> columns;
  llvm::StringMap<Column> columnsByName;
  /// Function arguments by (key, ingest).
  std::map<std::pair<std::string, std::string>, mlir::Value> inputs;
  llvm::SmallVector<mlir::Attribute> argumentAttributes;
  llvm::StringMap<mlir::Value> parameters;
  /// What each column already emitted, so a column read twice (a numeric
  /// column also bucketized, a vocabulary also crossed) is computed once.
  llvm::DenseMap<Column, mlir::Value> emittedIds, emittedNumeric;
  /// Per raw feature: read as a variable-length list (true) or as a
  /// fixed-length numeric feature (false).
  llvm::StringMap<bool> parsedAsList;
  struct Output {
    std::string name;
    mlir::Value value;
    /// "logits" or "regression" for heads, empty otherwise.
    std::string head;
  };
  std::vector<Output> outputs;
  mlir::DictionaryAttr trainingAttribute();
  std::optional<TrainingOptions> training;
  std::optional<mlir::Location> trainingLoc;
  bool hasErrors = false;
};

} // namespace lmc::frontend

#endif // LMC_FRONTEND_MODELBUILDER_H
