// OpsCollective.cpp - a training step's collectives over the communicator's
// ranks, and the ops that read the executing rank.
//
// ZeRO's partition (see the lmc dialect): a tensor of n elements,
// flattened, is split into shards of ceil(n / ranks); rank r's shard starts
// at r * shard and the last one is padded with zeros.

#include "cpu/KernelContext.h"

#include <algorithm>
#include <cstring>

namespace lmc::cpu {
namespace {

using rt::Opcode;

bool needF32(KernelContext &ctx, const Tensor &tensor) {
  return tensor.dtype == DType::F32 ||
         ctx.fail("runs on f32 values, not " + describe(tensor));
}

/// The shard size of `elements` over the instruction's ranks, checked
/// against the communicator.
bool shardOf(KernelContext &ctx, int64_t elements, int64_t &shard) {
  int64_t ranks = ctx.instruction->ints[ops::slot::collective::ranks];
  if (ranks != ctx.communicator->size())
    return ctx.fail("was compiled for " + std::to_string(ranks) + " ranks; this run has " +
                    std::to_string(ctx.communicator->size()));
  shard = (elements + ranks - 1) / ranks;
  return true;
}

bool runAllReduce(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t unused;
  if (!needF32(ctx, input) || !shardOf(ctx, 1, unused) ||
      !ctx.allocate(0, input.dtype, result))
    return false;
  std::memcpy(result.data, input.data, input.numBytes());
  rt::Status error;
  return ctx.communicator->allReduceSum(result.as<float>(), size_t(result.numElements()), error) ||
         ctx.fail(error);
}

bool runReduceScatter(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t shard;
  if (!needF32(ctx, input) || !shardOf(ctx, input.numElements(), shard) ||
      !ctx.allocate(0, DType::F32, result))
    return false;
  int ranks = ctx.communicator->size();
  std::vector<float> padded(size_t(shard * ranks), 0.0f);
  std::copy(input.as<float>(), input.as<float>() + input.numElements(), padded.begin());
  rt::Status error;
  return ctx.communicator->reduceScatterSum(padded.data(), result.as<float>(),
                                            std::vector<int>(size_t(ranks), int(shard)),
                                            error) ||
         ctx.fail(error);
}

bool runAllGather(KernelContext &ctx, const Tensor &input, Tensor &result) {
  const rt::TensorType &type = ctx.instruction->results[0];
  int64_t elements = 1, shard;
  for (int64_t dim : type.shape)
    elements *= dim;
  if (!needF32(ctx, input) || !shardOf(ctx, elements, shard))
    return false;
  if (input.numElements() != shard)
    return ctx.fail("gathers shards of " + std::to_string(shard) + " elements, not " +
                    describe(input));
  if (!ctx.allocate(0, DType::F32, result))
    return false;
  int ranks = ctx.communicator->size();
  std::vector<float> joined(size_t(shard * ranks));
  rt::Status error;
  if (!ctx.communicator->allGather(input.as<float>(), joined.data(),
                                   std::vector<int>(size_t(ranks), int(shard)), error))
    return ctx.fail(error);
  std::copy(joined.begin(), joined.begin() + elements, result.as<float>());
  return true;
}

bool runAllGatherRows(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t unused;
  if (!shardOf(ctx, 1, unused))
    return false;
  const auto *bytes = static_cast<const uint8_t *>(input.data);
  std::vector<std::vector<uint8_t>> all;
  rt::Status error;
  if (!ctx.communicator->allGatherBytes({bytes, bytes + input.numBytes()}, all, error))
    return ctx.fail(error);
  size_t rowBytes = rt::dtypeSize(input.dtype);
  for (size_t d = 1; d < input.shape.size(); ++d)
    rowBytes *= size_t(input.shape[d]);
  size_t total = 0;
  for (const std::vector<uint8_t> &part : all) {
    if (rowBytes == 0 || part.size() % rowBytes)
      return ctx.fail("received rows of another width from a rank");
    total += part.size();
  }
  // The one dimension the shape rule cannot know: the rows all ranks sent.
  ctx.resultShapes[0].shape[0] = rowBytes ? int64_t(total / rowBytes) : 0;
  if (!ctx.allocate(0, input.dtype, result))
    return false;
  auto *into = static_cast<uint8_t *>(result.data);
  for (const std::vector<uint8_t> &part : all)
    into = std::copy(part.begin(), part.end(), into);
  return true;
}

bool runShardSlice(KernelContext &ctx, const Tensor &input, Tensor &result) {
  int64_t shard;
  if (!needF32(ctx, input) || !shardOf(ctx, input.numElements(), shard) ||
      !ctx.allocate(0, DType::F32, result))
    return false;
  int64_t begin = std::min(input.numElements(), shard * ctx.communicator->rank());
  int64_t end = std::min(input.numElements(), begin + shard);
  float *out = result.as<float>();
  std::fill(std::copy(input.as<float>() + begin, input.as<float>() + end, out), out + shard, 0.0f);
  return true;
}

bool runRank(KernelContext &ctx, Tensor &result) {
  int64_t unused;
  if (!shardOf(ctx, 1, unused) || !ctx.allocate(0, DType::I64, result))
    return false;
  result.as<int64_t>()[0] = ctx.communicator->rank();
  return true;
}

} // namespace

bool runCollective(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ctx.instruction->opcode) {
  case Opcode::AllReduce: return runAllReduce(ctx, *in[0], out[0]);
  case Opcode::ReduceScatter: return runReduceScatter(ctx, *in[0], out[0]);
  case Opcode::AllGather: return runAllGather(ctx, *in[0], out[0]);
  case Opcode::AllGatherRows: return runAllGatherRows(ctx, *in[0], out[0]);
  case Opcode::ShardSlice: return runShardSlice(ctx, *in[0], out[0]);
  case Opcode::Rank: return runRank(ctx, out[0]);
  default: return ctx.fail("is not a collective");
  }
}

} // namespace lmc::cpu
