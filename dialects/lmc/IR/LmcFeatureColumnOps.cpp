//===- LmcFeatureColumnOps.cpp - verifiers of feature-column ops ----------===//
//
// Where TensorFlow's feature columns reject an argument, these verifiers
// reject the same argument, so a column that TensorFlow accepts compiles and
// one it refuses does not.
//
//===----------------------------------------------------------------------===//

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::lmc;

static LogicalResult verifyElementwiseShape(Operation *op, ShapedType input,
                                            ShapedType result) {
  return verifyShapeCompatible(op, "result", result.getShape(),
                               input.getShape());
}

static std::optional<double> asDouble(std::optional<APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToDouble();
}

LogicalResult FcNumericOp::verify() {
  if (failed(verifyElementwiseShape(*this, getInput().getType(), getType())))
    return failure();
  Normalizer normalizer = getNormalizer();
  bool isZscore = normalizer == Normalizer::zscore;
  bool isMinmax = normalizer == Normalizer::minmax;
  struct NamedParameter {
    StringRef name;
    std::optional<double> value;
    bool belongs;
  } parameters[] = {{"mean", asDouble(getMean()), isZscore},
                    {"std", asDouble(getStd()), isZscore},
                    {"min", asDouble(getMin()), isMinmax},
                    {"max", asDouble(getMax()), isMinmax}};
  for (const NamedParameter &parameter : parameters) {
    if (parameter.value && !parameter.belongs)
      return emitOpError("the ")
             << stringifyNormalizer(normalizer) << " normalizer takes no "
             << parameter.name;
    if (!parameter.value && parameter.belongs)
      return emitOpError("the ")
             << stringifyNormalizer(normalizer) << " normalizer needs "
             << parameter.name;
  }
  if (isZscore && !(*asDouble(getStd()) > 0))
    return emitOpError("std must be positive, got ") << *asDouble(getStd());
  if (isMinmax && !(*asDouble(getMin()) < *asDouble(getMax())))
    return emitOpError("min ") << *asDouble(getMin())
                               << " must be less than max "
                               << *asDouble(getMax());
  return success();
}

LogicalResult FcBucketizeOp::verify() {
  ArrayRef<float> boundaries = getBoundaries();
  if (boundaries.empty())
    return emitOpError("boundaries must not be empty");
  for (size_t i = 0; i + 1 < boundaries.size(); ++i)
    if (!(boundaries[i] < boundaries[i + 1]))
      return emitOpError("boundaries must be strictly increasing, but #")
             << i << " (" << boundaries[i] << ") is not below #" << i + 1
             << " (" << boundaries[i + 1] << ")";
  return verifyElementwiseShape(*this, getInput().getType(), getType());
}

// TensorFlow refuses hash_bucket_size <= 1 for hashed and crossed columns.
static LogicalResult verifyHashBuckets(Operation *op, int64_t buckets) {
  if (buckets > 1)
    return success();
  return op->emitOpError("num_buckets must be greater than 1, got ")
         << buckets;
}

LogicalResult FcHashBucketOp::verify() {
  if (failed(verifyHashBuckets(*this, getNumBuckets())))
    return failure();
  return verifyElementwiseShape(*this, getInput().getType(), getType());
}

LogicalResult FcVocabLookupOp::verify() {
  DenseIntElementsAttr vocabulary = getVocabulary();
  if (vocabulary.getType().getRank() != 1)
    return emitOpError("vocabulary must have rank 1, got ")
           << vocabulary.getType().getRank();
  if (vocabulary.empty())
    return emitOpError("vocabulary must not be empty");
  llvm::DenseMap<int64_t, size_t> positions;
  for (auto [i, fingerprint] :
       llvm::enumerate(vocabulary.getValues<int64_t>())) {
    auto [it, inserted] = positions.try_emplace(fingerprint, i);
    if (!inserted)
      return emitOpError("vocabulary holds ")
             << fingerprint << " twice, at #" << it->second << " and #" << i;
  }
  int64_t oovBuckets = getNumOovBuckets().value_or(0);
  if (oovBuckets < 0)
    return emitOpError("num_oov_buckets must not be negative, got ")
           << oovBuckets;
  if (oovBuckets > 0 && getDefaultValue())
    return emitOpError(
        "default_value and num_oov_buckets are mutually exclusive");
  return verifyElementwiseShape(*this, getInput().getType(), getType());
}

LogicalResult FcIdentityOp::verify() {
  int64_t buckets = getNumBuckets();
  if (buckets < 1)
    return emitOpError("num_buckets must be at least 1, got ") << buckets;
  if (std::optional<int64_t> fallback = getDefaultValue())
    if (*fallback < 0 || *fallback >= buckets)
      return emitOpError("default_value ")
             << *fallback << " is out of range [0, " << buckets << ")";
  return verifyElementwiseShape(*this, getInput().getType(), getType());
}

LogicalResult FcCrossOp::verify() {
  if (getInputs().size() < 2)
    return emitOpError("needs at least two inputs, got ")
           << getInputs().size();
  int64_t rank = llvm::cast<ShapedType>(getInputs().front().getType()).getRank();
  if (rank != 1 && rank != 2)
    return emitOpError("inputs must have rank 1 ([B]) or 2 ([B, k]), got ")
           << rank;
  int64_t batch = ShapedType::kDynamic;
  int64_t combinations = 1;
  for (auto [i, type] : llvm::enumerate(getInputs().getTypes())) {
    ArrayRef<int64_t> shape = llvm::cast<ShapedType>(type).getShape();
    if (int64_t(shape.size()) != rank)
      return emitOpError("input #") << i << " has rank " << shape.size()
                                    << ", input #0 has rank " << rank;
    if (!areDimsCompatible(batch, shape[0]))
      return emitOpError("input #") << i << " has batch size " << shape[0]
                                    << ", an earlier input " << batch;
    if (!ShapedType::isDynamic(shape[0]))
      batch = shape[0];
    if (rank == 2)
      combinations = ShapedType::isDynamic(shape[1]) ||
                             ShapedType::isDynamic(combinations)
                         ? ShapedType::kDynamic
                         : combinations * shape[1];
  }
  if (failed(verifyHashBuckets(*this, getNumBuckets())))
    return failure();
  SmallVector<int64_t> expected{batch};
  if (rank == 2)
    expected.push_back(combinations);
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               expected);
}

LogicalResult FcEmbeddingBagOp::verify() {
  ShapedType table = getTable().getType(), ids = getIds().getType();
  if (table.getRank() != 2)
    return emitOpError("table must have rank 2 ([V, D]), got ")
           << table.getRank();
  if (ids.getRank() != 2)
    return emitOpError("ids must have rank 2 ([B, k]), got ") << ids.getRank();
  if (Value weights = getWeights())
    if (failed(verifyShapeCompatible(
            *this, "weights",
            llvm::cast<ShapedType>(weights.getType()).getShape(),
            ids.getShape())))
      return failure();
  if (std::optional<APFloat> maxNorm = getMaxNorm())
    if (!(maxNorm->convertToFloat() > 0))
      return emitOpError("max_norm must be positive, got ")
             << maxNorm->convertToFloat();
  if (failed(verifySameElementType(*this, "table and result",
                                   {table, getType()})))
    return failure();
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               {ids.getDimSize(0), table.getDimSize(1)});
}

LogicalResult FcIndicatorOp::verify() {
  ShapedType ids = getIds().getType();
  if (ids.getRank() != 1 && ids.getRank() != 2)
    return emitOpError("ids must have rank 1 ([B]) or 2 ([B, k]), got ")
           << ids.getRank();
  if (Value weights = getWeights())
    if (failed(verifyShapeCompatible(
            *this, "weights",
            llvm::cast<ShapedType>(weights.getType()).getShape(),
            ids.getShape())))
      return failure();
  if (getNumBuckets() < 1)
    return emitOpError("num_buckets must be at least 1, got ")
           << getNumBuckets();
  return verifyShapeCompatible(*this, "result", getType().getShape(),
                               {ids.getDimSize(0), getNumBuckets()});
}
