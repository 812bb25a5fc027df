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
//   counts               how many values a categorical or weight feature
//                        holds in an example (0 when it is missing)
// A numeric feature's argument also carries `lmc.default`, the values a
// missing feature takes, when its column declares a default_value.
//
//===----------------------------------------------------------------------===//

#include "frontend/ModelBuilder.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "lmc/fingerprint.h"

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
                             ArrayRef<int64_t> shape, ArrayRef<double> defaults) {
  auto found = inputs.find({key.str(), ingest.str()});
  if (found != inputs.end()) {
    // One feature is parsed one way, as TensorFlow's parse spec requires.
    auto argument = llvm::cast<BlockArgument>(found->second);
    auto given = llvm::cast<DictionaryAttr>(argumentAttributes[argument.getArgNumber()])
                     .getAs<DenseF64ArrayAttr>("lmc.default");
    if (argument.getType() != tensorType(shape, elementType) ||
        (given ? given.asArrayRef() : ArrayRef<double>()) != defaults)
      error(column.loc) << "column '" << column.name << "' reads feature '" << key
                        << "' with another shape, type or default_value than an earlier "
                           "column; a feature is parsed one way";
    return found->second;
  }
  Value argument = body->addArgument(tensorType(shape, elementType), column.loc);
  SmallVector<NamedAttribute> attributes{
      builder.getNamedAttr("lmc.feature", builder.getStringAttr(key)),
      builder.getNamedAttr("lmc.ingest", builder.getStringAttr(ingest))};
  if (!defaults.empty())
    attributes.push_back(
        builder.getNamedAttr("lmc.default", builder.getDenseF64ArrayAttr(defaults)));
  argumentAttributes.push_back(builder.getDictionaryAttr(attributes));
  inputs[{key.str(), ingest.str()}] = argument;
  return argument;
}

void ModelBuilder::declareParse(const ColumnNode &column, llvm::StringRef key,
                                bool variableLength) {
  auto [entry, added] = parsedAsList.try_emplace(key, variableLength);
  if (!added && entry->second != variableLength)
    error(column.loc) << "column '" << column.name << "' reads feature '" << key << "' as "
                      << (variableLength ? "a list of values" : "a fixed-length numeric feature")
                      << " and another column as "
                      << (variableLength ? "a fixed-length numeric feature" : "a list of values")
                      << "; a feature is parsed one way, as in TensorFlow";
}

Value ModelBuilder::maskAbsent(const ColumnNode &column, llvm::StringRef key, Value values,
                               TypedAttr absent, ArrayRef<int64_t> valueOfSlot) {
  // TensorFlow parses a categorical feature as a variable-length list: an
  // example may hold fewer values than the column's width, or none. The
  // feature's `counts` input says how many; the slots reading a value after
  // them become `absent`, which the ops after this one skip.
  auto type = llvm::cast<RankedTensorType>(values.getType());
  // i32 counts keep the masks cheap in fused kernels.
  Type i32 = builder.getI32Type();
  SmallVector<int64_t> countShape(type.getRank(), 1), slotShape(type.getShape());
  countShape[0] = kDynamic;
  slotShape[0] = 1;
  declareParse(column, key, /*variableLength=*/true);
  Value counts = rawInput(column, key, "counts", i32, countShape);
  SmallVector<int32_t> slotValue(valueOfSlot.begin(), valueOfSlot.end());
  if (slotValue.empty())
    for (int64_t i = 0; i < tensorType(slotShape, i32).getNumElements(); ++i)
      slotValue.push_back(int32_t(i));
  Value slots = builder.create<ConstantOp>(
      column.loc, DenseElementsAttr::get(tensorType(slotShape, i32), ArrayRef<int32_t>(slotValue)));
  Value present = builder.create<CompareOp>(
      column.loc, tensorType(type.getShape(), builder.getI1Type()), ComparePredicate::lt, slots,
      counts);
  Value fill = builder.create<ConstantOp>(
      column.loc, DenseElementsAttr::get(tensorType({}, type.getElementType()), absent));
  return builder.create<SelectOp>(column.loc, type, present, values, fill);
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
  // TensorFlow fills a missing numeric feature with its default_value
  // when parsing (the host here); the op then replaces NaN (a JSON null).
  std::vector<double> defaults;
  if (column.defaultValue && !column.sequence)
    defaults.assign(size_t(column.width()), *column.defaultValue);
  if (!column.sequence)
    declareParse(column, column.key, /*variableLength=*/false);
  Type f32 = builder.getF32Type();
  bool int64 = column.numericType == NumericType::Int64;
  Value raw = rawInput(column, column.key, "value", int64 ? builder.getI64Type() : f32,
                       rawShape(column, /*ids=*/false), defaults);
  if (int64)
    raw = builder.create<CastOp>(column.loc,
                                 tensorType(llvm::cast<ShapedType>(raw.getType()).getShape(), f32),
                                 raw);
  // Only a float feature can hold NaN (a JSON null) for the default.
  std::optional<double> nanDefault = int64 ? std::nullopt : column.defaultValue;
  if (column.normalizer == Normalizer::none && !nanDefault)
    return raw;
  auto asAttr = [&](std::optional<double> value) -> FloatAttr {
    return value ? builder.getF64FloatAttr(*value) : FloatAttr();
  };
  return builder.create<FcNumericOp>(
      column.loc, raw.getType(), raw, column.normalizer, asAttr(column.mean),
      asAttr(column.stddev), asAttr(column.min), asAttr(column.max),
      asAttr(nanDefault));
}

/// A categorical column reading a raw feature, which examples may lack.
static bool isRawCategorical(const ColumnNode &column) {
  return column.kind == ColumnKind::Vocabulary || column.kind == ColumnKind::HashBucket ||
         column.kind == ColumnKind::Identity;
}

Value ModelBuilder::emitIds(const ColumnNode &column) {
  Value emitted = emitRawIds(column);
  // The ids a raw categorical feature of one example leaves empty; a
  // sequence's lengths mark its padding instead.
  if (!emitted || !isRawCategorical(column) || column.sequence)
    return emitted;
  return maskAbsent(column, column.key, emitted, builder.getI64IntegerAttr(LMC_ABSENT_ID));
}

Value ModelBuilder::emitRawIds(const ColumnNode &column) {
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
    Value buckets = builder.create<FcBucketizeOp>(
        column.loc, tensorType(shape, i64), values,
        builder.getDenseF32ArrayAttr(column.boundaries));
    int64_t width = column.width();
    if (column.sequence || width == 1)
      return buckets;
    // TensorFlow gives element i of a [k] source its own ids:
    // bucket + i * (len(boundaries) + 1).
    if (shape.size() > 2)
      buckets = reshape(buckets, {kDynamic, width}, column.loc);
    SmallVector<int64_t> offsets;
    for (int64_t i = 0; i < width; ++i)
      offsets.push_back(i * (int64_t(column.boundaries.size()) + 1));
    Value offset = builder.create<ConstantOp>(
        column.loc, DenseElementsAttr::get(tensorType({1, width}, i64), ArrayRef<int64_t>(offsets)));
    return builder.create<AddOp>(column.loc, buckets.getType(), buckets, offset);
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
    SmallVector<int64_t> widths;
    for (Value input : crossInputs) {
      widths.push_back(llvm::cast<ShapedType>(input.getType()).getDimSize(1));
      combinations = ShapedType::isDynamic(widths.back()) ? kDynamic : combinations * widths.back();
    }
    Value crossed = builder.create<FcCrossOp>(
        column.loc, tensorType({kDynamic, combinations}, i64), crossInputs,
        builder.getI64IntegerAttr(column.numBuckets),
        column.hashKey ? builder.getI64IntegerAttr(int64_t(*column.hashKey))
                       : IntegerAttr());
    // The combinations reading a value the example lacks are absent. Every
    // value a cross reads is valid (a raw INT64_MIN included), so they are
    // masked afterwards, by the counts of the feature each input reads; a
    // bucketized input always has its values.
    int64_t stride = combinations;
    for (auto [input, width] : llvm::zip(column.crossedInputs, widths)) {
      stride /= width;
      llvm::StringRef key = input.column ? llvm::StringRef(input.column->key) : input.key;
      if (input.column && !isRawCategorical(*input.column))
        continue;
      SmallVector<int64_t> valueOfSlot;
      for (int64_t c = 0; c < combinations; ++c)
        valueOfSlot.push_back(c / stride % width);
      crossed = maskAbsent(column, key, crossed, builder.getI64IntegerAttr(LMC_ABSENT_ID),
                           valueOfSlot);
    }
    return crossed;
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
  Value raw = rawInput(column, column.weightKey, "value", builder.getF32Type(),
                       llvm::cast<ShapedType>(categoricalIds.getType()).getShape());
  // A weight is read only where its id is present (TensorFlow pairs them
  // by index), so the ids' mask covers it; the counts input lets examples
  // hold as few weights as ids, or none, and `lmc.paired_with` makes the
  // host refuse an example whose weights and ids differ in number, as
  // TensorFlow does.
  if (!column.sequence) {
    declareParse(column, column.weightKey, /*variableLength=*/true);
    SmallVector<int64_t> countShape(llvm::cast<ShapedType>(raw.getType()).getRank(), 1);
    countShape[0] = kDynamic;
    Value counts =
        rawInput(column, column.weightKey, "counts", builder.getI32Type(), countShape);
    const std::string &idsKey = column.inputs.front()->key;
    if (!idsKey.empty()) {
      unsigned index = llvm::cast<BlockArgument>(counts).getArgNumber();
      NamedAttrList attributes(llvm::cast<DictionaryAttr>(argumentAttributes[index]));
      attributes.set("lmc.paired_with", builder.getStringAttr(idsKey));
      argumentAttributes[index] = attributes.getDictionary(&context);
    }
  }
  return raw;
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
    return column.shape.size() == 1 ? values
                                    : reshape(values, {kDynamic, column.width()}, column.loc);
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
  case ColumnKind::Bucketized:
    // TensorFlow's bucketized column is also dense: the one-hot of each
    // element's bucket, as its indicator column.
  case ColumnKind::Indicator: {
    const ColumnNode &categorical =
        column.kind == ColumnKind::Bucketized ? column : *column.inputs.front();
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
  if (column.kind == ColumnKind::Embedding && column.maxNorm) {
    // A token's row is a lookup without clipping.
    error(column.loc) << "column '" << column.name
                      << "': max_norm is not supported on a sequence embedding";
    return Value();
  }
  if (column.kind == ColumnKind::Embedding &&
      column.inputs.front()->kind != ColumnKind::Weighted) {
    Value table = embeddingTable(column);
    Value tokenIds = ids(*column.inputs.front());
    return builder.create<EmbeddingOp>(
        column.loc, tensorType({kDynamic, kDynamic, column.dimension},
                               builder.getF32Type()),
        table, tokenIds);
  }
  if (column.kind == ColumnKind::Indicator &&
      column.inputs.front()->kind != ColumnKind::Weighted) {
    // One one-hot per step: step (b, s) compared with every bucket, so an
    // id outside the buckets (-1) gives zeros, as TensorFlow's one_hot.
    const ColumnNode &categorical = *column.inputs.front();
    int64_t buckets = categorical.idSpace();
    Type i64 = builder.getI64Type();
    Value steps = reshape(ids(categorical), {kDynamic, kDynamic, 1}, column.loc);
    SmallVector<int64_t> bucketIds;
    for (int64_t i = 0; i < buckets; ++i)
      bucketIds.push_back(i);
    Value all = builder.create<ConstantOp>(
        column.loc,
        DenseElementsAttr::get(tensorType({1, 1, buckets}, i64), ArrayRef<int64_t>(bucketIds)));
    Value hot = builder.create<CompareOp>(
        column.loc, tensorType({kDynamic, kDynamic, buckets}, builder.getI1Type()),
        ComparePredicate::eq, steps, all);
    return builder.create<CastOp>(
        column.loc, tensorType({kDynamic, kDynamic, buckets}, builder.getF32Type()), hot);
  }
  error(column.loc) << "column '" << column.name
                    << "' cannot feed a sequence input: use a "
                       "sequence_numeric column, or an embedding or indicator of an "
                       "unweighted sequence_categorical column (TensorFlow's "
                       "SequenceFeatures refuses weighted ones too)";
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
