// HostShapes.cpp - result shapes per opcode, from operand shapes.

#include "cuda/HostShapes.h"

#include "artifact/OpTable.h"

#include <algorithm>

namespace lmc::cuda {
namespace {

using rt::Opcode;

bool broadcast(const std::vector<const HostValue *> &operands, std::vector<int64_t> &shape) {
  size_t rank = 0;
  for (const HostValue *operand : operands)
    rank = std::max(rank, operand->shape.size());
  shape.assign(rank, 1);
  for (const HostValue *operand : operands)
    for (size_t d = 0; d < operand->shape.size(); ++d) {
      int64_t &out = shape[rank - operand->shape.size() + d];
      int64_t size = operand->shape[d];
      if (size != 1 && out != 1 && size != out)
        return false;
      if (size != 1)
        out = size;
    }
  return true;
}

/// A reshape's result: the static sizes, leading dynamic sizes copied from
/// the operand where they line up, the last dynamic size from the count.
bool reshape(const HostValue &x, const rt::TensorType &type, std::vector<int64_t> &shape) {
  shape = type.shape;
  int64_t total = x.numElements(), known = 1;
  int last = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) {
      if (last >= 0) { // an earlier dynamic dimension: take the operand's
        if (size_t(last) >= x.shape.size())
          return false;
        shape[size_t(last)] = x.shape[size_t(last)];
        known *= shape[size_t(last)];
      }
      last = int(d);
      continue;
    }
    known *= shape[d];
  }
  if (last >= 0) {
    if (known <= 0 || total % known)
      return false;
    shape[size_t(last)] = total / known;
  }
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count == total;
}

} // namespace

int64_t HostValue::numElements(size_t from) const {
  int64_t count = 1;
  for (size_t d = from; d < shape.size(); ++d)
    count *= shape[d];
  return count;
}

bool inferKernelShapes(const rt::Kernel &kernel, std::vector<HostValue> &locals,
                       std::string &error) {
  for (size_t i = 0; i < kernel.body.size(); ++i) {
    const rt::Instruction &op = kernel.body[i];
    std::vector<const HostValue *> in;
    for (int operand : op.operands)
      in.push_back(operand >= 0 ? &locals[size_t(operand)] : nullptr);
    std::vector<HostValue> out(op.results.size());
    auto fail = [&](const std::string &why) {
      error = "kernel '" + kernel.name + "' instruction #" + std::to_string(i) + " (" +
              rt::opcodeName(op.opcode) + "): " + why;
      return false;
    };
    const HostValue *x = in.empty() ? nullptr : in[0];
    // The shared rules (Ops.def's ShapeRule), then each op's own.
    ops::ShapeRule rule = ops::info(op.opcode).shape;
    if (rule == ops::ShapeRule::Broadcast && !broadcast(in, out[0].shape))
      return fail("operand shapes do not broadcast");
    if (rule == ops::ShapeRule::SameAsFirst)
      out[0].shape = x->shape;
    if (rule == ops::ShapeRule::Special) {
      switch (op.opcode) {
      case Opcode::Cast:
        out[0].shape = x->shape;
        if (x->known && !rt::isFloat(op.results[0].dtype)) { // lengths cast to i32, say
          out[0].data = x->data;
          out[0].known = true;
        }
        break;
      case Opcode::Matmul: {
        const std::vector<int64_t> &a = x->shape, &b = in[1]->shape;
        if (a.size() < 2 || b.size() < 2)
          return fail("needs operands of rank 2 or more");
        HostValue batchA{{a.begin(), a.end() - 2}, {}, false}, batchB{{b.begin(), b.end() - 2}, {}, false};
        if (!broadcast({&batchA, &batchB}, out[0].shape))
          return fail("batch dimensions do not broadcast");
        out[0].shape.push_back(op.ints[ops::slot::matmul::transposeLhs] ? a.back() : a[a.size() - 2]);
        out[0].shape.push_back(op.ints[ops::slot::matmul::transposeRhs] ? b[b.size() - 2] : b.back());
        break;
      }
      case Opcode::ReduceSum: case Opcode::ReduceMax:
        out[0].shape = x->shape;
        if (op.ints[ops::slot::reduce::keepDims])
          out[0].shape[size_t(op.ints[ops::slot::reduce::axis])] = 1;
        else
          out[0].shape.erase(out[0].shape.begin() + op.ints[ops::slot::reduce::axis]);
        break;
      case Opcode::Transpose:
        for (int64_t axis : op.ints)
          out[0].shape.push_back(x->shape[size_t(axis)]);
        break;
      case Opcode::Reshape:
        if (!reshape(*x, op.results[0], out[0].shape))
          return fail("cannot reshape " + std::to_string(x->numElements()) + " elements");
        break;
      case Opcode::Concat:
        out[0].shape = x->shape;
        out[0].shape[size_t(op.ints[ops::slot::concat::axis])] = 0;
        for (const HostValue *part : in)
          out[0].shape[size_t(op.ints[ops::slot::concat::axis])] +=
              part->shape[size_t(op.ints[ops::slot::concat::axis])];
        break;
      case Opcode::Slice:
        out[0].shape = x->shape;
        out[0].shape[size_t(op.ints[ops::slot::slice::axis])] =
            op.ints[ops::slot::slice::limit] - op.ints[ops::slot::slice::start];
        break;
      case Opcode::Constant:
        out[0].shape = op.results[0].shape;
        break;
      case Opcode::Embedding:
        out[0].shape = in[1]->shape;
        out[0].shape.push_back(x->shape[1]);
        break;
      case Opcode::Attention:
        out[0].shape = x->shape;
        out[0].shape.back() = in[2]->shape.back();
        if (out.size() > 1) // the log-sum-exp per query row and head
          out[1].shape.assign(x->shape.begin(), x->shape.end() - 1);
        break;
      case Opcode::BroadcastLike:
        out[0].shape = in[1]->shape;
        break;
      case Opcode::AttentionGrad: case Opcode::AdamwRows:
        for (size_t r = 0; r < 3; ++r)
          out[r].shape = in[r]->shape;
        break;
      case Opcode::AllReduce: case Opcode::ReduceScatter: case Opcode::AllGather:
      case Opcode::AllGatherRows: case Opcode::ShardSlice: case Opcode::Rank:
        return fail("is a collective: DeviceCollectives plans it, not the kernel shapes");
      case Opcode::Unpad: {
        const HostValue &lengths = *in[1];
        if (!lengths.known)
          return fail("the lengths are not known on the host");
        out[1].shape = {int64_t(lengths.data.size()) + 1};
        out[1].data.push_back(0);
        for (int64_t length : lengths.data) {
          if (length < 0 || x->shape.size() < 2 || length > x->shape[1])
            return fail("a length of " + std::to_string(length) + " does not fit the input");
          out[1].data.push_back(out[1].data.back() + length);
        }
        out[1].known = true;
        out[0].shape = {out[1].data.back()};
        out[0].shape.insert(out[0].shape.end(), x->shape.begin() + 2, x->shape.end());
        break;
      }
      case Opcode::Pad: {
        const HostValue &cu = *in[1];
        if (!cu.known)
          return fail("cu_seqlens is not known on the host");
        int64_t longest = 0;
        for (size_t s = 0; s + 1 < cu.data.size(); ++s) {
          out[1].data.push_back(cu.data[s + 1] - cu.data[s]);
          longest = std::max(longest, out[1].data.back());
        }
        out[1].shape = {int64_t(out[1].data.size())};
        out[1].known = true;
        int64_t padded = op.results[0].shape.size() > 1 ? op.results[0].shape[1] : -1;
        out[0].shape = {int64_t(out[1].data.size()), padded >= 0 ? padded : longest};
        out[0].shape.insert(out[0].shape.end(), x->shape.begin() + 1, x->shape.end());
        break;
      }
      case Opcode::SegmentReduce:
        out[0].shape = {in[1]->shape[0] - 1};
        out[0].shape.insert(out[0].shape.end(), x->shape.begin() + 1, x->shape.end());
        break;
      case Opcode::Positions:
        if (!x->known || x->data.empty())
          return fail("cu_seqlens is not known on the host");
        out[0].shape = {x->data.back()};
        break;
      case Opcode::FcCross: {
        int64_t combinations = 1;
        for (const HostValue *part : in)
          combinations *= part->shape.size() > 1 ? part->shape[1] : 1;
        out[0].shape = {x->shape[0]};
        if (op.results[0].shape.size() == 2)
          out[0].shape.push_back(combinations);
        break;
      }
      case Opcode::FcEmbeddingBag:
        out[0].shape = {in[1]->shape[0], x->shape[1]};
        break;
      case Opcode::FcIndicator:
        out[0].shape = {x->shape[0], op.ints[ops::slot::fcIndicator::buckets]};
        break;
      default:
        return fail("has no shape rule on the host");
      }
    }
    for (size_t r = 0; r < out.size(); ++r) {
      const std::vector<int64_t> &declared = op.results[r].shape;
      bool fits = declared.size() == out[r].shape.size();
      for (size_t d = 0; fits && d < declared.size(); ++d)
        fits = out[r].shape[d] >= 0 && (declared[d] < 0 || declared[d] == out[r].shape[d]);
      if (!fits)
        return fail("its result #" + std::to_string(r) + " does not have the declared shape");
      locals.push_back(std::move(out[r]));
    }
  }
  return true;
}

} // namespace lmc::cuda
