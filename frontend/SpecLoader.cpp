//===- SpecLoader.cpp - declare a model from a YAML spec file -------------===//

#include "frontend/SpecLoader.h"

#include "frontend/ModelBuilder.h"
#include "frontend/SpecTree.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Path.h"

#include <type_traits>

using namespace mlir;

namespace lmc::frontend {
namespace {

/// Reads the fields of one mapping (a column or a layer), reporting wrong
/// types, missing fields and unknown fields with their locations.
class Fields {
public:
  Fields(const SpecNode &node, std::string what, llvm::SourceMgr &sourceMgr,
         MLIRContext &context, bool &failed)
      : node(node), what(std::move(what)), sourceMgr(sourceMgr),
        context(context), failed(failed) {
    at.declaration = loc(node.loc);
    for (const SpecField &field : node.fields) {
      at.fields.try_emplace(field.key, loc(field.value.loc));
      for (auto [i, item] : llvm::enumerate(field.value.items))
        at.fields.try_emplace((field.key + "[" + llvm::Twine(i) + "]").str(),
                              loc(item.loc));
    }
  }

  Location loc(llvm::SMLoc where) const {
    auto [line, column] = sourceMgr.getLineAndColumn(where);
    llvm::StringRef file =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBufferIdentifier();
    return FileLineColLoc::get(&context, file, line, column);
  }

  InFlightDiagnostic error(Location where) {
    failed = true;
    return emitError(where);
  }

  const SpecNode *find(llvm::StringRef name) {
    used.insert(name);
    for (const SpecField &field : node.fields)
      if (field.key == name)
        return &field.value;
    return nullptr;
  }

  const SpecNode *require(llvm::StringRef name) {
    const SpecNode *value = find(name);
    if (!value)
      error(at.of("", &context)) << what << ": missing field '" << name << "'";
    return value;
  }

  std::optional<std::string> string(llvm::StringRef name, bool required) {
    const SpecNode *value = required ? require(name) : find(name);
    if (!value)
      return std::nullopt;
    if (value->kind != SpecNode::Kind::Scalar) {
      error(loc(value->loc)) << what << ", field '" << name
                             << "': must be a single value";
      return std::nullopt;
    }
    return value->scalar;
  }

  std::optional<int64_t> integer(llvm::StringRef name, bool required) {
    std::optional<std::string> text = string(name, required);
    int64_t value;
    if (!text)
      return std::nullopt;
    if (llvm::StringRef(*text).getAsInteger(0, value)) {
      error(at.of(name, &context)) << what << ", field '" << name
                                   << "': must be an integer, got '" << *text
                                   << "'";
      return std::nullopt;
    }
    return value;
  }

  std::optional<double> number(llvm::StringRef name) {
    std::optional<std::string> text = string(name, false);
    double value;
    if (!text)
      return std::nullopt;
    if (llvm::StringRef(*text).getAsDouble(value)) {
      error(at.of(name, &context)) << what << ", field '" << name
                                   << "': must be a number, got '" << *text
                                   << "'";
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(llvm::StringRef name) {
    std::optional<std::string> text = string(name, false);
    if (!text)
      return std::nullopt;
    if (*text == "true" || *text == "false")
      return *text == "true";
    error(at.of(name, &context)) << what << ", field '" << name
                                 << "': must be true or false, got '" << *text
                                 << "'";
    return std::nullopt;
  }

  /// A list of scalars; a missing optional list is empty.
  std::optional<std::vector<std::string>> list(llvm::StringRef name,
                                               bool required) {
    const SpecNode *value = required ? require(name) : find(name);
    if (!value)
      return required ? std::nullopt
                      : std::optional<std::vector<std::string>>(
                            std::vector<std::string>());
    if (value->kind != SpecNode::Kind::Sequence) {
      error(loc(value->loc)) << what << ", field '" << name
                             << "': must be a list";
      return std::nullopt;
    }
    std::vector<std::string> items;
    for (const SpecNode &item : value->items) {
      if (item.kind != SpecNode::Kind::Scalar) {
        error(loc(item.loc)) << what << ", field '" << name
                             << "': every entry must be a single value";
        return std::nullopt;
      }
      items.push_back(item.scalar);
    }
    return items;
  }

  template <typename T>
  std::optional<std::vector<T>> numbers(llvm::StringRef name, bool required) {
    std::optional<std::vector<std::string>> items = list(name, required);
    if (!items)
      return std::nullopt;
    std::vector<T> values;
    for (const std::string &item : *items) {
      // Integers are read as integers: a real such as 1e19 has no int64.
      if constexpr (std::is_integral_v<T>) {
        int64_t value;
        if (llvm::StringRef(item).getAsInteger(0, value)) {
          error(at.of(name, values.size(), &context))
              << what << ", field '" << name << "': '" << item
              << "' is not an integer";
          return std::nullopt;
        }
        values.push_back(T(value));
        continue;
      }
      double value;
      if (llvm::StringRef(item).getAsDouble(value)) {
        error(at.of(name, values.size(), &context))
            << what << ", field '" << name << "': '" << item
            << "' is not a number";
        return std::nullopt;
      }
      values.push_back(T(value));
    }
    return values;
  }

  /// One of `choices`, by name; `fallback` when absent.
  template <typename T>
  std::optional<T> choice(llvm::StringRef name,
                          llvm::ArrayRef<std::pair<llvm::StringRef, T>> choices,
                          T fallback) {
    std::optional<std::string> text = string(name, false);
    if (!text)
      return failed ? std::nullopt : std::optional<T>(fallback);
    for (const auto &[spelling, value] : choices)
      if (spelling == *text)
        return value;
    InFlightDiagnostic diag = error(at.of(name, &context));
    diag << what << ", field '" << name << "': '" << *text
         << "' is not one of ";
    llvm::interleaveComma(choices, diag,
                          [&](const auto &entry) { diag << entry.first; });
    return std::nullopt;
  }

  /// Reports every field that was never asked for.
  void rejectUnknown() {
    for (const SpecField &field : node.fields)
      if (!used.contains(field.key))
        error(loc(field.keyLoc)) << what << ": unknown field '" << field.key
                                 << "'";
  }

  const SourceLocations &locations() const { return at; }
  /// What the mapping declares, for messages: "numeric column 'age'".
  llvm::StringRef describe() const { return what; }

private:
  const SpecNode &node;
  std::string what;
  llvm::SourceMgr &sourceMgr;
  MLIRContext &context;
  bool &failed;
  SourceLocations at;
  llvm::StringSet<> used;
};

const std::pair<llvm::StringRef, Normalizer> kNormalizers[] = {
    {"none", Normalizer::none},
    {"zscore", Normalizer::zscore},
    {"minmax", Normalizer::minmax},
    {"log1p", Normalizer::log1p}};
const std::pair<llvm::StringRef, Combiner> kCombiners[] = {
    {"mean", Combiner::mean}, {"sum", Combiner::sum}, {"sqrtn", Combiner::sqrtn}};
const std::pair<llvm::StringRef, KeyType> kKeyTypes[] = {
    {"string", KeyType::String}, {"int64", KeyType::Int64}};
const std::pair<llvm::StringRef, NumericType> kNumericTypes[] = {
    {"float32", NumericType::Float32}, {"int64", NumericType::Int64}};
const std::pair<llvm::StringRef, Activation> kActivations[] = {
    {"none", Activation::None},
    {"relu", Activation::Relu},
    {"gelu", Activation::Gelu},
    {"gelu_tanh", Activation::GeluTanh},
    {"silu", Activation::Silu}};
const std::pair<llvm::StringRef, Loss> kLosses[] = {
    {"binary_cross_entropy", Loss::BinaryCrossEntropy},
    {"softmax_cross_entropy", Loss::SoftmaxCrossEntropy},
    {"mean_squared_error", Loss::MeanSquaredError}};
const std::pair<llvm::StringRef, LearningRateSchedule> kSchedules[] = {
    {"constant", LearningRateSchedule::Constant},
    {"linear_warmup", LearningRateSchedule::LinearWarmup},
    {"cosine", LearningRateSchedule::Cosine}};
const std::pair<llvm::StringRef, TrainingPrecision> kTrainingPrecisions[] = {
    {"fp32", TrainingPrecision::FP32},
    {"fp16", TrainingPrecision::FP16},
    {"bf16", TrainingPrecision::BF16}};
const std::pair<llvm::StringRef, llvm::StringRef> kOptimizers[] = {{"adamw", "adamw"}};
const std::pair<llvm::StringRef, Pooling> kPoolings[] = {
    {"mean", Pooling::Mean}, {"first", Pooling::First}, {"max", Pooling::Max}};

/// TensorFlow's function names, accepted as column types: a spec may say
/// `categorical_column_with_hash_bucket` where it means `hash_bucket`.
const std::pair<llvm::StringRef, llvm::StringRef> kTensorFlowColumnNames[] = {
    {"numeric_column", "numeric"},
    {"bucketized_column", "bucketized"},
    {"categorical_column_with_vocabulary_list", "vocabulary_list"},
    {"categorical_column_with_vocabulary_file", "vocabulary_file"},
    {"categorical_column_with_hash_bucket", "hash_bucket"},
    {"categorical_column_with_identity", "identity"},
    {"crossed_column", "crossed"},
    {"weighted_categorical_column", "weighted"},
    {"embedding_column", "embedding"},
    {"shared_embedding_columns", "shared_embeddings"},
    {"indicator_column", "indicator"},
    {"sequence_numeric_column", "sequence_numeric"},
    {"sequence_categorical_column_with_vocabulary_list", "sequence_vocabulary_list"},
    {"sequence_categorical_column_with_vocabulary_file", "sequence_vocabulary_file"},
    {"sequence_categorical_column_with_hash_bucket", "sequence_hash_bucket"},
    {"sequence_categorical_column_with_identity", "sequence_identity"}};

/// "line 7:5": where an earlier declaration sits, for messages.
std::string lineOf(Location loc) {
  if (auto at = llvm::dyn_cast<FileLineColLoc>(loc))
    return "line " + std::to_string(at.getLine()) + ":" + std::to_string(at.getColumn());
  return "an earlier line";
}

llvm::StringRef canonicalColumnType(llvm::StringRef type) {
  for (const auto &[tensorFlowName, name] : kTensorFlowColumnNames)
    if (type == tensorFlowName)
      return name;
  return type;
}

/// Declares one spec on a builder: columns first, then layers in order.
class SpecInterpreter {
public:
  SpecInterpreter(llvm::SourceMgr &sourceMgr, MLIRContext &context,
                  llvm::StringRef specFolder)
      : sourceMgr(sourceMgr), context(context), specFolder(specFolder) {}

  OwningOpRef<ModuleOp> run(const SpecNode &root);

private:
  Fields fieldsOf(const SpecNode &node, std::string what) {
    return Fields(node, std::move(what), sourceMgr, context, failed);
  }
  Column columnRef(Fields &fields, llvm::StringRef field, llvm::StringRef name,
                   std::optional<size_t> entry = std::nullopt);
  std::vector<Column> columnRefs(Fields &fields, llvm::StringRef field);
  void declareColumn(const SpecNode &node);
  void declareLayer(const SpecNode &node);
  void declareTraining(const SpecNode &node);
  std::optional<NumericOptions> numericOptions(Fields &fields);
  std::optional<CategoricalOptions> categoricalOptions(Fields &fields);
  std::optional<VocabularyOptions> vocabularyOptions(Fields &fields);
  std::optional<EmbeddingOptions> embeddingOptions(Fields &fields);
  std::optional<std::vector<CrossedInput>> crossedInputs(Fields &fields,
                                                        std::vector<CrossedEntry> &entries);

  llvm::SourceMgr &sourceMgr;
  MLIRContext &context;
  std::string specFolder;
  std::optional<ModelBuilder> model;
  llvm::StringMap<Column> columns;
  llvm::StringMap<Value> values;
  llvm::StringMap<Sequence> sequences;
  /// Where each layer was declared: a second layer of the same name is an
  /// error, not a silent replacement. (The builder refuses duplicate columns.)
  llvm::StringMap<Location> layers;
  bool failed = false;
};

OwningOpRef<ModuleOp> SpecInterpreter::run(const SpecNode &root) {
  Fields top = fieldsOf(root, "spec");
  if (root.kind != SpecNode::Kind::Mapping) {
    top.error(top.loc(root.loc))
        << "a spec is a mapping with 'model', 'columns' and 'layers'";
    return nullptr;
  }
  std::optional<std::string> name = top.string("model", /*required=*/true);
  if (!name)
    return nullptr;
  model.emplace(context, *name, top.loc(root.loc));
  for (llvm::StringRef section : {"columns", "layers"}) {
    const SpecNode *entries = top.find(section);
    if (!entries)
      continue;
    if (entries->kind != SpecNode::Kind::Sequence) {
      top.error(top.loc(entries->loc))
          << "spec, field '" << section << "': must be a list";
      continue;
    }
    for (const SpecNode &entry : entries->items) {
      if (entry.kind != SpecNode::Kind::Mapping) {
        top.error(top.loc(entry.loc))
            << "spec, field '" << section << "': every entry is a mapping";
        continue;
      }
      section == "columns" ? declareColumn(entry) : declareLayer(entry);
    }
  }
  if (const SpecNode *training = top.find("training")) {
    if (training->kind != SpecNode::Kind::Mapping)
      top.error(top.loc(training->loc)) << "spec, field 'training': must be a mapping";
    else
      declareTraining(*training);
  }
  top.rejectUnknown();
  // After a spec error the model is incomplete: finishing it would only add
  // consequential errors.
  if (failed)
    return nullptr;
  return model->finish();
}

// training: {loss, label, output, optimizer: {type, learning_rate, beta1,
// beta2, epsilon, weight_decay}, schedule: {type, warmup_steps,
// total_steps}, precision, zero_stage, ranks}
void SpecInterpreter::declareTraining(const SpecNode &node) {
  Fields fields = fieldsOf(node, "training");
  TrainingOptions options;
  SourceLocations at = fields.locations();
  options.loss = fields.choice<Loss>("loss", kLosses, Loss::BinaryCrossEntropy).value_or(options.loss);
  options.label = fields.string("label", /*required=*/true).value_or("");
  options.output = fields.string("output", false).value_or("");
  options.precision = fields.choice<TrainingPrecision>("precision", kTrainingPrecisions,
                                                       TrainingPrecision::FP32)
                          .value_or(options.precision);
  options.zeroStage = fields.integer("zero_stage", false).value_or(0);
  options.ranks = fields.integer("ranks", false).value_or(1);
  // The nested mappings' fields are checked under their own names.
  auto nested = [&](llvm::StringRef name, auto &&read) {
    const SpecNode *child = fields.find(name);
    if (!child)
      return;
    if (child->kind != SpecNode::Kind::Mapping) {
      fields.error(fields.loc(child->loc)) << "training, field '" << name << "': must be a mapping";
      return;
    }
    Fields inner = fieldsOf(*child, "training " + name.str());
    for (const auto &entry : inner.locations().fields)
      at.fields.try_emplace(entry.getKey(), entry.getValue());
    read(inner);
    inner.rejectUnknown();
  };
  nested("optimizer", [&](Fields &optimizer) {
    optimizer.choice<llvm::StringRef>("type", kOptimizers, "adamw");
    options.learningRate = optimizer.number("learning_rate").value_or(options.learningRate);
    options.beta1 = optimizer.number("beta1").value_or(options.beta1);
    options.beta2 = optimizer.number("beta2").value_or(options.beta2);
    options.epsilon = optimizer.number("epsilon").value_or(options.epsilon);
    options.weightDecay = optimizer.number("weight_decay").value_or(options.weightDecay);
  });
  nested("schedule", [&](Fields &schedule) {
    options.schedule = schedule
                           .choice<LearningRateSchedule>("type", kSchedules,
                                                         LearningRateSchedule::Constant)
                           .value_or(options.schedule);
    options.warmupSteps = schedule.integer("warmup_steps", false).value_or(0);
    options.totalSteps = schedule.integer("total_steps", false).value_or(0);
  });
  fields.rejectUnknown();
  if (!failed)
    model->train(options, at);
}

Column SpecInterpreter::columnRef(Fields &fields, llvm::StringRef field,
                                  llvm::StringRef name,
                                  std::optional<size_t> entry) {
  auto found = columns.find(name);
  if (found != columns.end())
    return found->second;
  fields.error(entry ? fields.locations().of(field, *entry, &context)
                     : fields.locations().of(field, &context))
      << fields.describe() << ", field '" << field << "': no column named '"
      << name << "' is declared above";
  return nullptr;
}

std::vector<Column> SpecInterpreter::columnRefs(Fields &fields,
                                                llvm::StringRef field) {
  std::vector<Column> result;
  std::optional<std::vector<std::string>> names = fields.list(field, true);
  if (!names)
    return {nullptr};
  for (auto [i, name] : llvm::enumerate(*names))
    result.push_back(columnRef(fields, field, name, i));
  return result;
}

std::optional<NumericOptions> SpecInterpreter::numericOptions(Fields &fields) {
  NumericOptions options;
  if (auto shape = fields.numbers<int64_t>("shape", false); shape && !shape->empty())
    options.shape = *shape;
  options.defaultValue = fields.number("default_value");
  auto type = fields.choice<NumericType>("dtype", kNumericTypes, NumericType::Float32);
  if (!type)
    return std::nullopt;
  options.type = *type;
  auto normalizer =
      fields.choice<Normalizer>("normalizer", kNormalizers, Normalizer::none);
  if (!normalizer)
    return std::nullopt;
  options.normalizer = *normalizer;
  options.mean = fields.number("mean");
  options.stddev = fields.number("std");
  options.min = fields.number("min");
  options.max = fields.number("max");
  return options;
}

std::optional<CategoricalOptions>
SpecInterpreter::categoricalOptions(Fields &fields) {
  CategoricalOptions options;
  if (auto shape = fields.numbers<int64_t>("shape", false); shape && !shape->empty())
    options.shape = *shape;
  auto keyType = fields.choice<KeyType>("dtype", kKeyTypes, KeyType::String);
  if (!keyType)
    return std::nullopt;
  options.keyType = *keyType;
  return options;
}

std::optional<VocabularyOptions>
SpecInterpreter::vocabularyOptions(Fields &fields) {
  std::optional<CategoricalOptions> categorical = categoricalOptions(fields);
  if (!categorical)
    return std::nullopt;
  VocabularyOptions options;
  static_cast<CategoricalOptions &>(options) = *categorical;
  options.numOovBuckets = fields.integer("num_oov_buckets", false).value_or(0);
  options.defaultValue = fields.integer("default_value", false);
  return options;
}

std::optional<EmbeddingOptions>
SpecInterpreter::embeddingOptions(Fields &fields) {
  EmbeddingOptions options;
  std::optional<int64_t> dimension = fields.integer("dimension", true);
  auto combiner = fields.choice<Combiner>("combiner", kCombiners, Combiner::mean);
  if (!dimension || !combiner)
    return std::nullopt;
  options.dimension = *dimension;
  options.combiner = *combiner;
  if (std::optional<double> maxNorm = fields.number("max_norm"))
    options.maxNorm = float(*maxNorm);
  options.initializerStddev = fields.number("initializer_stddev");
  return options;
}

// A cross's inputs in their declared order: `inputs` (a bare name is a raw
// key, as a string is in TensorFlow's crossed_column; {key, dtype, shape} a
// raw key with options; {column} a categorical column), or the older `keys`
// and `columns`, which cross the keys first.
std::optional<std::vector<CrossedInput>>
SpecInterpreter::crossedInputs(Fields &fields, std::vector<CrossedEntry> &entries) {
  const SpecNode *list = fields.find("inputs");
  const SpecNode *keyList = fields.find("keys");
  const SpecNode *columnList = fields.find("columns");
  if (list && (keyList || columnList)) {
    fields.error(fields.locations().of("inputs", &context))
        << fields.describe() << ": give 'inputs', or 'keys' and 'columns', not both";
    return std::nullopt;
  }
  if (!list && !keyList && !columnList) {
    fields.error(fields.locations().of("", &context))
        << fields.describe() << ": missing field 'inputs'";
    return std::nullopt;
  }
  std::vector<CrossedInput> inputs;
  bool ok = true;
  auto readKey = [&](const SpecNode &entry, llvm::StringRef field, size_t index) {
    entries.push_back({field.str(), index});
    if (entry.kind == SpecNode::Kind::Scalar) {
      inputs.push_back({entry.scalar, KeyType::String, 1, nullptr});
      return;
    }
    Fields keyFields = fieldsOf(entry, "crossed " + field.drop_back().str());
    CrossedInput input;
    if (field == "inputs" && keyFields.find("column")) {
      std::optional<std::string> name = keyFields.string("column", true);
      if (name)
        input.column = columnRef(keyFields, "column", *name);
      keyFields.rejectUnknown();
      ok &= bool(input.column);
      inputs.push_back(input);
      return;
    }
    auto name = keyFields.string("key", true);
    auto keyType = keyFields.choice<KeyType>("dtype", kKeyTypes, KeyType::String);
    auto shape = keyFields.numbers<int64_t>("shape", false);
    keyFields.rejectUnknown();
    if (!name || !keyType || !shape) {
      ok = false;
      return;
    }
    if (shape->size() > 1) {
      keyFields.error(keyFields.locations().of("shape", &context))
          << "crossed key '" << *name << "', field 'shape': must be [k], one dimension";
      ok = false;
      return;
    }
    input.key = *name;
    input.keyType = *keyType;
    input.width = shape->empty() ? 1 : shape->front();
    inputs.push_back(input);
  };
  for (llvm::StringRef field : {"inputs", "keys"}) {
    const SpecNode *items = field == "inputs" ? list : keyList;
    if (!items)
      continue;
    if (items->kind != SpecNode::Kind::Sequence) {
      fields.error(fields.loc(items->loc))
          << fields.describe() << ", field '" << field << "': must be a list";
      return std::nullopt;
    }
    for (auto [index, entry] : llvm::enumerate(items->items))
      readKey(entry, field, index);
  }
  if (columnList)
    for (auto [j, column] : llvm::enumerate(columnRefs(fields, "columns"))) {
      ok &= bool(column);
      inputs.push_back({"", KeyType::String, 1, column});
      entries.push_back({"columns", j});
    }
  if (!ok)
    return std::nullopt;
  return inputs;
}

void SpecInterpreter::declareColumn(const SpecNode &node) {
  Fields probe = fieldsOf(node, "column");
  std::optional<std::string> type = probe.string("type", /*required=*/true);
  if (!type)
    return;
  llvm::StringRef kind = canonicalColumnType(*type);
  bool sequence = kind.consume_front("sequence_");
  std::optional<std::string> key;
  std::optional<std::string> derivedName;
  bool readsRawFeature = kind == "numeric" || kind == "vocabulary_list" ||
                         kind == "vocabulary_file" || kind == "hash_bucket" ||
                         kind == "identity";
  if (readsRawFeature) {
    key = fieldsOf(node, *type + " column").string("key", /*required=*/true);
    if (!key)
      return;
    derivedName = key;
  } else if (auto source = probe.string("source", false);
             source && kind == "bucketized") {
    derivedName = *source + "_bucketized";
  } else if (auto categorical = probe.string("categorical", false)) {
    if (kind == "embedding" || kind == "indicator")
      derivedName = *categorical + "_" + kind.str();
  }
  std::string what =
      *type + " column" + (derivedName ? " '" + *derivedName + "'" : "");
  Fields fields = fieldsOf(node, what);
  fields.find("type");
  if (key)
    fields.find("key");
  const SourceLocations &at = fields.locations();
  std::vector<Column> declared;

  if (kind == "numeric") {
    if (auto options = numericOptions(fields))
      declared.push_back(sequence ? model->sequenceNumeric(*key, *options, at)
                                  : model->numeric(*key, *options, at));
  } else if (kind == "vocabulary_list" || kind == "vocabulary_file") {
    std::optional<VocabularyOptions> options = vocabularyOptions(fields);
    if (kind == "vocabulary_list") {
      auto entries = fields.list("vocabulary", /*required=*/true);
      if (options && entries)
        declared.push_back(
            sequence ? model->sequenceCategoricalWithVocabularyList(
                           *key, *entries, *options, at)
                     : model->categoricalWithVocabularyList(*key, *entries,
                                                            *options, at));
    } else {
      auto path = fields.string("vocabulary_file", /*required=*/true);
      auto size = fields.integer("vocabulary_size", false);
      if (options && path) {
        options->size = size;
        llvm::SmallString<256> resolved(*path);
        if (llvm::sys::path::is_relative(resolved))
          resolved = (llvm::Twine(specFolder) + "/" + *path).str();
        declared.push_back(
            sequence ? model->sequenceCategoricalWithVocabularyFile(
                           *key, resolved, *options, at)
                     : model->categoricalWithVocabularyFile(*key, resolved,
                                                            *options, at));
      }
    }
  } else if (kind == "hash_bucket") {
    auto buckets = fields.integer("hash_bucket_size", /*required=*/true);
    auto options = categoricalOptions(fields);
    if (buckets && options)
      declared.push_back(
          sequence ? model->sequenceCategoricalWithHashBucket(*key, *buckets,
                                                              *options, at)
                   : model->categoricalWithHashBucket(*key, *buckets, *options,
                                                      at));
  } else if (kind == "identity") {
    auto buckets = fields.integer("num_buckets", /*required=*/true);
    auto fallback = fields.integer("default_value", false);
    auto options = categoricalOptions(fields);
    if (buckets && options)
      declared.push_back(sequence ? model->sequenceCategoricalWithIdentity(
                                        *key, *buckets, fallback, *options, at)
                                  : model->categoricalWithIdentity(
                                        *key, *buckets, fallback, *options, at));
  } else if (sequence) {
    fields.error(at.of("type", &context))
        << "column type '" << *type << "' has no sequence form";
  } else if (kind == "bucketized") {
    auto source = fields.string("source", true);
    auto boundaries = fields.numbers<float>("boundaries", true);
    if (source && boundaries)
      declared.push_back(model->bucketized(columnRef(fields, "source", *source),
                                           *boundaries, at));
  } else if (kind == "crossed") {
    auto buckets = fields.integer("hash_bucket_size", true);
    auto hashKey = fields.integer("hash_key", false);
    std::vector<CrossedEntry> entries;
    std::optional<std::vector<CrossedInput>> inputs = crossedInputs(fields, entries);
    if (buckets && inputs)
      declared.push_back(model->crossed(
          *inputs, *buckets,
          hashKey ? std::optional<uint64_t>(uint64_t(*hashKey)) : std::nullopt, at, entries));
  } else if (kind == "weighted") {
    auto categorical = fields.string("categorical", true);
    auto weightKey = fields.string("weight_key", true);
    if (categorical && weightKey)
      declared.push_back(model->weightedCategorical(
          columnRef(fields, "categorical", *categorical), *weightKey, at));
  } else if (kind == "embedding") {
    auto categorical = fields.string("categorical", true);
    auto options = embeddingOptions(fields);
    if (categorical && options)
      declared.push_back(model->embedding(
          columnRef(fields, "categorical", *categorical), *options, at));
  } else if (kind == "shared_embeddings") {
    std::vector<Column> categoricals = columnRefs(fields, "categorical_columns");
    auto options = embeddingOptions(fields);
    if (options)
      declared = model->sharedEmbeddings(categoricals, *options, at);
  } else if (kind == "indicator") {
    auto categorical = fields.string("categorical", true);
    if (categorical)
      declared.push_back(
          model->indicator(columnRef(fields, "categorical", *categorical), at));
  } else {
    fields.error(at.of("type", &context))
        << "column type '" << *type
        << "' is not one of numeric, bucketized, vocabulary_list, "
           "vocabulary_file, hash_bucket, identity, crossed, weighted, "
           "embedding, shared_embeddings, indicator (or a sequence_ form)";
    return;
  }
  fields.rejectUnknown();
  for (Column column : declared)
    if (column)
      columns[column->name] = column;
}

void SpecInterpreter::declareLayer(const SpecNode &node) {
  Fields probe = fieldsOf(node, "layer");
  std::optional<std::string> type = probe.string("type", true);
  std::optional<std::string> name = probe.string("name", true);
  if (!type || !name)
    return;
  Fields fields = fieldsOf(node, *type + " layer '" + *name + "'");
  fields.find("type");
  fields.find("name");
  auto [earlier, added] = layers.try_emplace(*name, fields.loc(node.loc));
  if (!added) {
    fields.error(fields.locations().of("name", &context))
        << "a layer named '" << *name << "' is already declared at "
        << lineOf(earlier->second);
    return;
  }
  const SourceLocations &at = fields.locations();
  auto valueRef = [&](llvm::StringRef field) -> Value {
    std::optional<std::string> input = fields.string(field, true);
    if (!input)
      return Value();
    auto found = values.find(*input);
    if (found != values.end())
      return found->second;
    fields.error(at.of(field, &context))
        << fields.describe() << ", field '" << field << "': no layer named '"
        << *input << "' with a dense output is declared above";
    return Value();
  };
  auto sequenceRef = [&]() -> Sequence {
    std::optional<std::string> input = fields.string("input", true);
    if (!input)
      return {};
    auto found = sequences.find(*input);
    if (found != sequences.end())
      return found->second;
    fields.error(at.of("input", &context))
        << fields.describe() << ", field 'input': no layer named '" << *input
        << "' with a sequence output is declared above";
    return {};
  };
  auto activation = [&]() {
    return fields.choice<Activation>("activation", kActivations,
                                     Activation::None);
  };

  llvm::StringRef kind = *type;
  if (kind == "input_layer") {
    values[*name] = model->inputLayer(columnRefs(fields, "columns"), at);
  } else if (kind == "sequence_input") {
    sequences[*name] = model->sequenceInput(columnRefs(fields, "columns"), at);
  } else if (kind == "dense") {
    Value input = valueRef("input");
    auto units = fields.integer("units", true);
    auto act = activation();
    if (input && units && act)
      values[*name] = model->dense(input, *units, *act, *name, at);
  } else if (kind == "mlp") {
    Value input = valueRef("input");
    auto units = fields.numbers<int64_t>("units", true);
    auto act = activation();
    if (input && units && act)
      values[*name] = model->mlp(input, *units, *act, *name, at);
  } else if (kind == "layer_norm") {
    Value input = valueRef("input");
    if (input)
      values[*name] = model->layerNorm(input, *name, at);
  } else if (kind == "transformer_encoder") {
    Sequence input = sequenceRef();
    TransformerOptions options;
    options.layers = fields.integer("layers", true).value_or(0);
    options.heads = fields.integer("heads", true).value_or(0);
    options.headDim = fields.integer("head_dim", true).value_or(0);
    options.ffn = fields.integer("ffn", true).value_or(0);
    options.causal = fields.boolean("causal").value_or(false);
    auto act = fields.choice<Activation>("activation", kActivations,
                                         Activation::GeluTanh);
    if (input && act) {
      options.activation = *act;
      sequences[*name] = model->transformerEncoder(input, options, *name, at);
    }
  } else if (kind == "pool") {
    Sequence input = sequenceRef();
    auto mode = fields.choice<Pooling>("mode", kPoolings, Pooling::Mean);
    if (input && mode)
      values[*name] = model->pool(input, *mode, at);
  } else if (kind == "concat") {
    std::vector<Value> inputs;
    if (auto names = fields.list("inputs", true)) {
      for (const std::string &input : *names) {
        auto found = values.find(input);
        if (found == values.end()) {
          fields.error(at.of("inputs", inputs.size(), &context))
              << fields.describe() << ", field 'inputs': no layer named '"
              << input
              << "' with a dense output is declared above";
          inputs.push_back(Value());
        } else {
          inputs.push_back(found->second);
        }
      }
    }
    values[*name] = model->concat(inputs, at);
  } else if (kind == "logits" || kind == "regression") {
    Value input = valueRef("input");
    auto units = fields.integer("units", true);
    if (input && units)
      values[*name] = kind == "logits"
                          ? model->logits(*name, input, *units, at)
                          : model->regression(*name, input, *units, at);
  } else if (kind == "output") {
    Value input = valueRef("input");
    if (input)
      model->output(*name, input, at);
  } else {
    fields.error(at.of("type", &context))
        << "layer type '" << *type
        << "' is not one of input_layer, sequence_input, dense, mlp, "
           "layer_norm, transformer_encoder, pool, concat, logits, "
           "regression, output";
    return;
  }
  fields.rejectUnknown();
}

} // namespace

bool isModelSpecPath(llvm::StringRef path) {
  llvm::StringRef extension = llvm::sys::path::extension(path);
  return extension == ".yaml" || extension == ".yml";
}

OwningOpRef<ModuleOp> loadModelSpec(llvm::SourceMgr &sourceMgr,
                                    MLIRContext &context) {
  unsigned buffer = sourceMgr.getMainFileID();
  std::optional<SpecNode> root = parseSpecTree(sourceMgr, buffer);
  if (!root)
    return nullptr;
  llvm::StringRef path =
      sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier();
  llvm::SmallString<256> folder(path);
  llvm::sys::path::remove_filename(folder);
  if (folder.empty())
    folder = ".";
  return SpecInterpreter(sourceMgr, context, folder).run(*root);
}

} // namespace lmc::frontend
