//===- EvalFeatureColumnOps.cpp - evaluating lmc.fc.* ops -----------------===//
//
// Feature columns run through the runtime's CPU kernels (instantiated for
// double), so their semantics are written once.
//
//===----------------------------------------------------------------------===//

#include "compiler/eval/EvalOps.h"
#include "dialects/lmc/IR/OpRuleSwitch.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "cpu/FeatureColumnKernels.h"
#include "lmc/fingerprint.h"


namespace mlir::lmc::eval {
namespace {

::lmc::cpu::Normalizer toKernel(Normalizer normalizer) {
  switch (normalizer) {
  case Normalizer::none: return ::lmc::cpu::Normalizer::None;
  case Normalizer::zscore: return ::lmc::cpu::Normalizer::ZScore;
  case Normalizer::minmax: return ::lmc::cpu::Normalizer::MinMax;
  case Normalizer::log1p: return ::lmc::cpu::Normalizer::Log1p;
  }
  llvm_unreachable("unknown normalizer");
}

::lmc::cpu::Combiner toKernel(Combiner combiner) {
  switch (combiner) {
  case Combiner::sum: return ::lmc::cpu::Combiner::Sum;
  case Combiner::mean: return ::lmc::cpu::Combiner::Mean;
  case Combiner::sqrtn: return ::lmc::cpu::Combiner::SqrtN;
  }
  llvm_unreachable("unknown combiner");
}

/// The values of a numeric input as doubles, whatever the element type.
std::vector<double> realsOf(const EvalTensor &tensor) {
  std::vector<double> values(size_t(tensor.numElements()));
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    values[size_t(i)] = tensor.real(i);
  return values;
}

EvalTensor idsLike(const EvalTensor &input, Value result) {
  return EvalTensor::zeros(input.shape,
                           llvm::cast<ShapedType>(result.getType()).getElementType());
}

LogicalResult evalNumeric(FcNumericOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  ::lmc::cpu::NumericParameters<double> params;
  params.normalizer = toKernel(op.getNormalizer());
  params.mean = op.getMean() ? op.getMean()->convertToDouble() : 0;
  params.stddev = op.getStd() ? op.getStd()->convertToDouble() : 1;
  params.min = op.getMin() ? op.getMin()->convertToDouble() : 0;
  params.max = op.getMax() ? op.getMax()->convertToDouble() : 1;
  if (op.getDefaultValue())
    params.defaultValue = op.getDefaultValue()->convertToDouble();
  std::vector<double> values = realsOf(input);
  EvalTensor out = EvalTensor::zeros(input.shape, op.getType().getElementType());
  ::lmc::cpu::numeric(values.data(), values.size(), params, out.reals.data());
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalBucketize(FcBucketizeOp op, EvalFrame &frame) {
  const EvalTensor &input = frame.get(op.getInput());
  // TensorFlow compares in f32.
  std::vector<float> values;
  for (int64_t i = 0; i < input.numElements(); ++i)
    values.push_back(float(input.real(i)));
  EvalTensor out = idsLike(input, op.getResult());
  ArrayRef<float> boundaries = op.getBoundaries();
  ::lmc::cpu::bucketize(values.data(), values.size(),
                 std::vector<float>(boundaries.begin(), boundaries.end()),
                 out.integers.data());
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalCross(FcCrossOp op, EvalFrame &frame) {
  std::vector<const int64_t *> inputs;
  std::vector<size_t> widths;
  size_t batch = 0;
  for (Value input : op.getInputs()) {
    const EvalTensor &tensor = frame.get(input);
    inputs.push_back(tensor.integers.data());
    widths.push_back(tensor.rank() == 2 ? size_t(tensor.shape[1]) : 1);
    batch = size_t(tensor.shape[0]);
  }
  size_t combinations = 1;
  for (size_t width : widths)
    combinations *= width;
  SmallVector<int64_t> shape{int64_t(batch)};
  if (op.getType().getRank() == 2)
    shape.push_back(int64_t(combinations));
  EvalTensor out = EvalTensor::zeros(shape, op.getType().getElementType());
  uint64_t key = op.getHashKey() ? uint64_t(*op.getHashKey()) : LMC_DEFAULT_CROSS_HASH_KEY;
  ::lmc::cpu::cross(inputs, widths, batch, key, op.getNumBuckets(), out.integers.data());
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalEmbeddingBag(FcEmbeddingBagOp op, EvalFrame &frame) {
  const EvalTensor &table = frame.get(op.getTable());
  const EvalTensor &ids = frame.get(op.getIds());
  std::vector<double> weights;
  if (op.getWeights())
    weights = realsOf(frame.get(op.getWeights()));
  int64_t dim = table.shape[1];
  EvalTensor out = EvalTensor::zeros({ids.shape[0], dim}, table.elementType);
  std::optional<double> maxNorm;
  if (op.getMaxNorm())
    maxNorm = op.getMaxNorm()->convertToDouble();
  ::lmc::cpu::embeddingBag<double>(table.reals.data(), table.shape[0], dim,
                            ids.integers.data(),
                            weights.empty() ? nullptr : weights.data(),
                            size_t(ids.shape[0]), size_t(ids.shape[1]),
                            toKernel(op.getCombiner()), maxNorm, out.reals.data());
  return frame.set(op, op.getResult(), std::move(out));
}

LogicalResult evalIndicator(FcIndicatorOp op, EvalFrame &frame) {
  const EvalTensor &ids = frame.get(op.getIds());
  std::vector<double> weights;
  if (op.getWeights())
    weights = realsOf(frame.get(op.getWeights()));
  int64_t buckets = op.getNumBuckets();
  size_t width = ids.rank() == 2 ? size_t(ids.shape[1]) : 1;
  EvalTensor out = EvalTensor::zeros({ids.shape[0], buckets}, op.getType().getElementType());
  ::lmc::cpu::indicator<double>(ids.integers.data(), weights.empty() ? nullptr : weights.data(),
                         size_t(ids.shape[0]), width, buckets, out.reals.data());
  return frame.set(op, op.getResult(), std::move(out));
}

} // namespace

std::optional<LogicalResult> evaluateFeatureColumnOp(Operation *op, EvalFrame &frame) {
  return OpRuleSwitch(op, frame.probing)
      .Case([&](FcNumericOp numeric) { return evalNumeric(numeric, frame); })
      .Case([&](FcBucketizeOp bucketize) { return evalBucketize(bucketize, frame); })
      .Case([&](FcHashBucketOp hash) -> LogicalResult {
        const EvalTensor &input = frame.get(hash.getInput());
        EvalTensor out = idsLike(input, hash.getResult());
        ::lmc::cpu::hashBucket(input.integers.data(), input.integers.size(),
                        hash.getNumBuckets(), out.integers.data());
        return frame.set(op, hash.getResult(), std::move(out));
      })
      .Case([&](FcVocabLookupOp lookup) -> LogicalResult {
        const EvalTensor &input = frame.get(lookup.getInput());
        auto vocabulary = llvm::to_vector(lookup.getVocabulary().getValues<int64_t>());
        ::lmc::cpu::VocabularyIndex index(std::vector<int64_t>(vocabulary.begin(), vocabulary.end()),
                                   lookup.getNumOovBuckets().value_or(0),
                                   lookup.getDefaultValue());
        EvalTensor out = idsLike(input, lookup.getResult());
        ::lmc::cpu::vocabLookup(input.integers.data(), input.integers.size(), index,
                         out.integers.data());
        return frame.set(op, lookup.getResult(), std::move(out));
      })
      .Case([&](FcIdentityOp identity) -> LogicalResult {
        const EvalTensor &input = frame.get(identity.getInput());
        EvalTensor out = idsLike(input, identity.getResult());
        ::lmc::cpu::identity(input.integers.data(), input.integers.size(),
                      identity.getNumBuckets(), identity.getDefaultValue(),
                      out.integers.data());
        return frame.set(op, identity.getResult(), std::move(out));
      })
      .Case([&](FcCrossOp cross) { return evalCross(cross, frame); })
      .Case([&](FcEmbeddingBagOp bag) { return evalEmbeddingBag(bag, frame); })
      .Case([&](FcIndicatorOp indicator) { return evalIndicator(indicator, frame); })
      .Default();
}

} // namespace mlir::lmc::eval
