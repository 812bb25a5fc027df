// OpsFeatureColumn.cpp - the lmc.fc.* instructions, on the kernels of
// FeatureColumnKernels.h (the same code the reference evaluator runs).

#include "cpu/KernelContext.h"

namespace lmc::cpu {
namespace {

using rt::Opcode;

/// Categorical ids as [batch, width]: rank 1 is width 1.
bool idsShape(const Tensor &ids, size_t &batch, size_t &width) {
  if (ids.dtype != DType::I64 || ids.rank() < 1 || ids.rank() > 2)
    return false;
  batch = size_t(ids.shape[0]);
  width = ids.rank() == 2 ? size_t(ids.shape[1]) : 1;
  return true;
}

/// fc.identity's default id (fc.vocab_lookup's slots are laid out alike).
std::optional<int64_t> defaultOf(const rt::Instruction &instruction) {
  static_assert(ops::slot::fcIdentity::hasDefault == ops::slot::fcVocabLookup::hasDefault &&
                ops::slot::fcIdentity::defaultValue == ops::slot::fcVocabLookup::defaultValue);
  if (instruction.ints[ops::slot::fcIdentity::hasDefault])
    return instruction.ints[ops::slot::fcIdentity::defaultValue];
  return std::nullopt;
}

bool runNumeric(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const rt::Instruction &ins = *ctx.instruction;
  DType dtype = ins.results[0].dtype;
  int64_t normalizer = ins.ints[ops::slot::fcNumeric::normalizer];
  if (!rt::isFloat(dtype) || normalizer < 0 || normalizer > 3)
    return ctx.fail("has an invalid normalizer or result type");
  if (!ctx.allocate(0, dtype, result))
    return false;
  NumericParameters<float> params;
  params.normalizer = Normalizer(normalizer);
  params.mean = float(ins.reals[ops::slot::fcNumeric::mean]);
  params.stddev = float(ins.reals[ops::slot::fcNumeric::stddev]);
  params.min = float(ins.reals[ops::slot::fcNumeric::min]);
  params.max = float(ins.reals[ops::slot::fcNumeric::max]);
  if (ins.ints[ops::slot::fcNumeric::hasDefault])
    params.defaultValue = float(ins.reals[ops::slot::fcNumeric::defaultValue]);
  FloatInput x(input);
  FloatOutput out(result);
  numeric(x.data(), size_t(input.numElements()), params, out.data());
  out.commit();
  return true;
}

bool runCategorical(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const rt::Instruction &ins = *ctx.instruction;
  bool fromFloat = ins.opcode == Opcode::FcBucketize;
  if (fromFloat ? !rt::isFloat(input.dtype) : input.dtype != DType::I64)
    return ctx.fail("cannot read " + describe(input));
  if (!ctx.allocate(0, DType::I64, result))
    return false;
  size_t count = size_t(input.numElements());
  int64_t *ids = result.as<int64_t>();
  switch (ins.opcode) {
  case Opcode::FcBucketize: {
    FloatInput x(input);
    bucketize(x.data(), count, ctx.plan.featureTables[size_t(ins.table)].boundaries, ids);
    return true;
  }
  case Opcode::FcHashBucket: {
    int64_t buckets = ins.ints[ops::slot::fcHashBucket::buckets];
    if (buckets <= 0)
      return ctx.fail("has " + std::to_string(buckets) + " buckets");
    hashBucket(input.as<int64_t>(), count, buckets, ids);
    return true;
  }
  case Opcode::FcVocabLookup:
    vocabLookup(input.as<int64_t>(), count, ctx.vocabularies->at(&ins), ids);
    return true;
  default: // FcIdentity
    identity(input.as<int64_t>(), count, ins.ints[ops::slot::fcIdentity::buckets], defaultOf(ins),
             ids);
    return true;
  }
}

bool runCross(KernelContext &ctx, const Operands &in, Tensor &result) {
  std::vector<const int64_t *> inputs;
  std::vector<size_t> widths;
  size_t batch = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    size_t rows, width;
    if (!idsShape(*in[i], rows, width) || (i && rows != batch))
      return ctx.fail("input " + describe(*in[i]) + " does not fit the cross");
    batch = rows;
    inputs.push_back(in[i]->as<int64_t>());
    widths.push_back(width);
  }
  if (!ctx.allocate(0, DType::I64, result))
    return false;
  cross(inputs, widths, batch, uint64_t(ctx.instruction->ints[ops::slot::fcCross::hashKey]),
        ctx.instruction->ints[ops::slot::fcCross::buckets],
        result.as<int64_t>());
  return true;
}

bool runEmbeddingBag(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &table = *in[0], &ids = *in[1];
  const Tensor *weights = in[2];
  size_t batch, width;
  if (table.rank() != 2 || !rt::isFloat(table.dtype) || !idsShape(ids, batch, width) ||
      (weights && weights->numElements() != ids.numElements()))
    return ctx.fail("table " + describe(table) + " and ids " + describe(ids) + " do not fit");
  const rt::Instruction &ins = *ctx.instruction;
  int64_t combiner = ins.ints[ops::slot::fcEmbeddingBag::combiner];
  if (combiner < 0 || combiner > 2)
    return ctx.fail("has an unknown combiner");
  if (!ctx.allocate(0, table.dtype, result))
    return false;
  FloatInput t(table);
  std::optional<FloatInput> w;
  if (weights)
    w.emplace(*weights);
  std::optional<float> maxNorm;
  if (ins.ints[ops::slot::fcEmbeddingBag::hasMaxNorm])
    maxNorm = float(ins.reals[ops::slot::fcEmbeddingBag::maxNorm]);
  FloatOutput out(result);
  embeddingBag<float>(t.data(), table.shape[0], table.shape[1], ids.as<int64_t>(),
                      weights ? w->data() : nullptr, batch, width, Combiner(combiner),
                      maxNorm, out.data());
  out.commit();
  return true;
}

bool runIndicator(KernelContext &ctx, const Operands &in, Tensor &result) {
  const Tensor &ids = *in[0];
  const Tensor *weights = in[1];
  size_t batch, width;
  int64_t buckets = ctx.instruction->ints[ops::slot::fcIndicator::buckets];
  if (!idsShape(ids, batch, width) || buckets < 0 ||
      (weights && weights->numElements() != ids.numElements()))
    return ctx.fail("ids " + describe(ids) + " do not fit an indicator");
  DType dtype = ctx.instruction->results[0].dtype;
  if (!rt::isFloat(dtype))
    return ctx.fail("must produce floats");
  if (!ctx.allocate(0, dtype, result))
    return false;
  std::optional<FloatInput> w;
  if (weights)
    w.emplace(*weights);
  FloatOutput out(result);
  indicator<float>(ids.as<int64_t>(), weights ? w->data() : nullptr, batch, width, buckets,
                   out.data());
  out.commit();
  return true;
}

} // namespace

bool runFeatureColumn(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::FcNumeric: return runNumeric(ctx, *in[0], out[0]);
  case Opcode::FcBucketize: case Opcode::FcHashBucket:
  case Opcode::FcVocabLookup: case Opcode::FcIdentity:
    return runCategorical(ctx, *in[0], out[0]);
  case Opcode::FcCross: return runCross(ctx, in, out[0]);
  case Opcode::FcEmbeddingBag: return runEmbeddingBag(ctx, in, out[0]);
  case Opcode::FcIndicator: return runIndicator(ctx, in, out[0]);
  default: return ctx.fail("is not a feature-column op");
  }
}

} // namespace lmc::cpu
