//===- ModelBuilderEmit.cpp - columns to lmc ops --------------------------===//
//
// Columns become ops when a block consumes them. Raw features become function
// arguments, one per (feature, ingest) pair, marked with what the host must
// feed: `lmc.feature` names the raw feature and `lmc.ingest` says how it
// arrives:
//   fingerprint          strings, as FarmHash Fingerprint64
//   decimal_fingerprint  integers, as the Fingerprint64 of their decimal text
//   value                numbers as they are (ids, numeric values, weights)
//   lengths              the per-example length of a sequence feature
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace mlir::lmc;

namespace lmc::frontend {

static constexpr int64_t kDynamic = ShapedType::kDynamic;

RankedTensorType ModelBuilder::tensorType(ArrayRef<int64_t> shape,
                                          Type element) {
  return RankedTensorType::get(shape, element);
}

Value ModelBuilder::rawInput(const ColumnNode &column, llvm::StringRef key,
                             llvm::StringRef ingest, Type elementType,
                             ArrayRef<int64_t> shape) {
  auto found = inputs.find({key.str(), ingest.str()});
  if (found != inputs.end())
    return found->second;
  Value argument = body->addArgument(tensorType(shape, elementType), column.loc);
  argumentAttributes.push_back(builder.getDictionaryAttr(
      {builder.getNamedAttr("lmc.feature", builder.getStringAttr(key)),
       builder.getNamedAttr("lmc.ingest", builder.getStringAttr(ingest))}));
  inputs[{key.str(), ingest.str()}] = argument;
  return argument;
}

// [B, k...] for single examples, [B, S] for sequences of ids and
// [B, S, d...] for sequences of numbers.
static SmallVector<int64_t> rawShape(const ColumnNode &column, bool ids) {
  SmallVector<int64_t> shape{kDynamic};
  if (column.sequence) {
    shape.push_back(kDynamic);
    if (ids)
      return shape;
  }
  shape.append(column.shape.begin(), column.shape.end());
  return shape;
}

Value ModelBuilder::sequenceLengths(const ColumnNode &column) {
  const ColumnNode *leaf = &column;
  while (leaf->key.empty() && !leaf->inputs.empty())
    leaf = leaf->inputs.front();
  return rawInput(*leaf, leaf->key, "lengths", builder.getI32Type(),
                  {kDynamic});
}

Value ModelBuilder::numericValue(const ColumnNode &column) {
  Value &emitted = emittedNumeric[&column];
  if (!emitted)
    emitted = emitNumericValue(column);
  return emitted;
}

Value ModelBuilder::ids(const ColumnNode &column) {
  Value &emitted = emittedIds[&column];
  if (!emitted)
    emitted = emitIds(column);
  return emitted;
}

Value ModelBuilder::emitNumericValue(const ColumnNode &column) {
  Value raw = rawInput(column, column.key, "value", builder.getF32Type(),
                       rawShape(column, /*ids=*/false));
  if (column.normalizer == Normalizer::none && !column.defaultValue)
    return raw;
  auto asAttr = [&](std::optional<double> value) -> FloatAttr {
    return value ? builder.getF64FloatAttr(*value) : FloatAttr();
  };
  return builder.create<FcNumericOp>(
      column.loc, raw.getType(), raw, column.normalizer, asAttr(column.mean),
      asAttr(column.stddev), asAttr(column.min), asAttr(column.max),
      asAttr(column.defaultValue));
}

Value ModelBuilder::emitIds(const ColumnNode &column) {
  Type i64 = builder.getI64Type();
  auto fingerprints = [&]() {
    return rawInput(column, column.key,
                    column.keyType == KeyType::String ? "fingerprint"
                                                      : "decimal_fingerprint",
                    i64, rawShape(column, /*ids=*/true));
  };
  switch (column.kind) {
  case ColumnKind::Vocabulary: {
    Value raw = fingerprints();
    auto vocabulary = DenseIntElementsAttr::get(
        tensorType({int64_t(column.vocabulary.size())}, i64),
        ArrayRef<int64_t>(column.vocabulary));
    return builder.create<FcVocabLookupOp>(
        column.loc, raw.getType(), raw, vocabulary,
        column.numOovBuckets ? builder.getI64IntegerAttr(column.numOovBuckets)
                             : IntegerAttr(),
        column.defaultId ? builder.getI64IntegerAttr(*column.defaultId)
                         : IntegerAttr());
  }
  case ColumnKind::HashBucket: {
    Value raw = fingerprints();
    return builder.create<FcHashBucketOp>(
        column.loc, raw.getType(), raw,
        builder.getI64IntegerAttr(column.numBuckets));
  }
  case ColumnKind::Identity: {
    Value raw = rawInput(column, column.key, "value", i64,
                         rawShape(column, /*ids=*/true));
    return builder.create<FcIdentityOp>(
        column.loc, raw.getType(), raw,
        builder.getI64IntegerAttr(column.numBuckets),
        column.defaultId ? builder.getI64IntegerAttr(*column.defaultId)
                         : IntegerAttr());
  }
  case ColumnKind::Bucketized: {
    Value values = numericValue(*column.inputs.front());
    auto shape = llvm::cast<ShapedType>(values.getType()).getShape();
    return builder.create<FcBucketizeOp>(
        column.loc, tensorType(shape, i64), values,
        builder.getDenseF32ArrayAttr(column.boundaries));
  }
  case ColumnKind::Crossed: {
    // TensorFlow crosses raw string keys by fingerprint and raw integer
    // keys and categorical ids by value.
    SmallVector<Value> crossInputs;
    int64_t combinations = 1;
    for (const CrossedInput &input : column.crossedInputs)
      crossInputs.push_back(
          input.column ? ids(*input.column)
                       : rawInput(column, input.key,
                                  input.keyType == KeyType::String ? "fingerprint" : "value",
                                  i64, {kDynamic, input.width}));
    for (Value input : crossInputs) {
      int64_t width = llvm::cast<ShapedType>(input.getType()).getDimSize(1);
      combinations = ShapedType::isDynamic(width) ? kDynamic : combinations * width;
    }
    return builder.create<FcCrossOp>(
        column.loc, tensorType({kDynamic, combinations}, i64), crossInputs,
        builder.getI64IntegerAttr(column.numBuckets),
        column.hashKey ? builder.getI64IntegerAttr(int64_t(*column.hashKey))
                       : IntegerAttr());
  }
  case ColumnKind::Weighted:
    return ids(*column.inputs.front());
  case ColumnKind::Numeric:
  case ColumnKind::Embedding:
  case ColumnKind::Indicator:
    break;
  }
  llvm_unreachable("ids of a column that is not categorical");
}

Value ModelBuilder::weights(const ColumnNode &column) {
  if (column.kind != ColumnKind::Weighted)
    return Value();
  Value categoricalIds = ids(column);
  return rawInput(column, column.weightKey, "value", builder.getF32Type(),
                  llvm::cast<ShapedType>(categoricalIds.getType()).getShape());
}

Value ModelBuilder::embeddingTable(const ColumnNode &column) {
  int64_t rows = column.inputs.front()->idSpace();
  return parameter(column.tableName, {rows, column.dimension},
                   initializer("truncated_normal",
                               {{"mean", 0.0}, {"stddev", column.initializerStddev}}),
                   column.loc);
}

Value ModelBuilder::denseFeature(const ColumnNode &column) {
  Type f32 = builder.getF32Type();
  switch (column.kind) {
  case ColumnKind::Numeric: {
    Value values = numericValue(column);
    int64_t width = 1;
    for (int64_t dim : column.shape)
      width *= dim;
    return column.shape.size() == 1 ? values
                                    : reshape(values, {kDynamic, width}, column.loc);
  }
  case ColumnKind::Embedding: {
    const ColumnNode &categorical = *column.inputs.front();
    Value table = embeddingTable(column);
    Value categoricalIds = ids(categorical);
    return builder.create<FcEmbeddingBagOp>(
        column.loc, tensorType({kDynamic, column.dimension}, f32),
        column.combiner, table, categoricalIds, weights(categorical),
        column.maxNorm ? builder.getF32FloatAttr(*column.maxNorm) : FloatAttr());
  }
  case ColumnKind::Indicator: {
    const ColumnNode &categorical = *column.inputs.front();
    int64_t buckets = categorical.idSpace();
    return builder.create<FcIndicatorOp>(
        column.loc, tensorType({kDynamic, buckets}, f32), ids(categorical),
        weights(categorical), builder.getI64IntegerAttr(buckets));
  }
  default:
    break;
  }
  error(column.loc) << "column '" << column.name
                    << "' is categorical; wrap it in an embedding or "
                       "indicator column to use it as a dense feature";
  return Value();
}

Value ModelBuilder::tokenFeature(const ColumnNode &column) {
  if (column.kind == ColumnKind::Numeric)
    return numericValue(column);
  if (column.kind == ColumnKind::Embedding &&
      column.inputs.front()->kind != ColumnKind::Weighted) {
    Value table = embeddingTable(column);
    Value tokenIds = ids(*column.inputs.front());
    return builder.create<EmbeddingOp>(
        column.loc, tensorType({kDynamic, kDynamic, column.dimension},
                               builder.getF32Type()),
        table, tokenIds);
  }
  error(column.loc) << "column '" << column.name
                    << "' cannot feed a sequence input: use a "
                       "sequence_numeric column or an embedding of an "
                       "unweighted sequence_categorical column";
  return Value();
}

Value ModelBuilder::parameter(llvm::StringRef name, ArrayRef<int64_t> shape,
                              DictionaryAttr init, Location loc) {
  auto type = tensorType(shape, builder.getF32Type());
  auto found = parameters.find(name);
  if (found != parameters.end()) {
    if (found->second.getType() == type)
      return found->second;
    error(loc) << "parameter '" << name << "' is declared twice, as "
               << found->second.getType() << " and " << type;
    return Value();
  }
  OpBuilder moduleBuilder(function);
  moduleBuilder.create<ParameterOp>(loc, name, type, init);
  Value loaded = builder.create<ParamLoadOp>(loc, type, name);
  parameters[name] = loaded;
  return loaded;
}

DictionaryAttr ModelBuilder::initializer(
    llvm::StringRef kind, ArrayRef<std::pair<llvm::StringRef, double>> fields) {
  SmallVector<NamedAttribute> entries{
      builder.getNamedAttr("kind", builder.getStringAttr(kind))};
  for (auto [name, value] : fields)
    entries.push_back(
        builder.getNamedAttr(name, builder.getF64FloatAttr(value)));
  return builder.getDictionaryAttr(entries);
}

Value ModelBuilder::reshape(Value value, ArrayRef<int64_t> shape, Location loc) {
  auto type = tensorType(
      shape, llvm::cast<ShapedType>(value.getType()).getElementType());
  return builder.create<ReshapeOp>(loc, type, value);
}

OwningOpRef<ModuleOp> ModelBuilder::finish() {
  if (outputs.empty() && !hasErrors)
    error(function.getLoc()) << "model '" << function.getSymName()
                             << "' has no output";
  if (hasErrors)
    return nullptr;
  SmallVector<Value> results;
  SmallVector<Attribute> resultAttributes;
  for (const Output &output : outputs) {
    results.push_back(output.value);
    SmallVector<NamedAttribute> attributes{builder.getNamedAttr(
        "lmc.output", builder.getStringAttr(output.name))};
    if (!output.head.empty())
      attributes.push_back(
          builder.getNamedAttr("lmc.head", builder.getStringAttr(output.head)));
    resultAttributes.push_back(builder.getDictionaryAttr(attributes));
  }
  builder.create<func::ReturnOp>(function.getLoc(), results);
  function.setFunctionType(builder.getFunctionType(
      body->getArgumentTypes(), ValueRange(results).getTypes()));
  function.setAllArgAttrs(argumentAttributes);
  function.setAllResultAttrs(resultAttributes);
  if (training) {
    DictionaryAttr settings = trainingAttribute();
    if (!settings)
      return nullptr;
    (*module)->setAttr("lmc.training", settings);
  }
  if (mlir::failed(mlir::verify(*module)))
    return nullptr;
  return std::move(module);
}

} // namespace lmc::frontend
