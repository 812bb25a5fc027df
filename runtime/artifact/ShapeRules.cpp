// ShapeRules.cpp - result shapes per op family and per Special op.
//
// Every rule works on partly known shapes: an unknown dimension (-1)
// propagates as unknown, and a check runs only on what is known, so the same
// code verifies a package's declared types and computes the exact shapes of
// a run.

#include "artifact/ShapeRules.h"

#include "artifact/OpTable.h"

#include <algorithm>

namespace lmc::ops {
namespace {

using rt::Opcode;
using Shape = std::vector<int64_t>;

constexpr int64_t kUnknown = -1;

std::string describe(const Shape &shape) {
  std::string text = "[";
  for (size_t d = 0; d < shape.size(); ++d)
    text += (d ? ", " : "") + (shape[d] < 0 ? std::string("?") : std::to_string(shape[d]));
  return text + "]";
}

/// a * b; unknown when either is, or when the product overflows (a damaged
/// package's sizes: the result then fits no declared type).
int64_t product(int64_t a, int64_t b) {
  int64_t result;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &result) ? kUnknown : result;
}

/// Known cu_seqlens run from 0 and never decrease (so their differences
/// cannot overflow), ending at `tokens` when that is known.
bool validOffsets(const std::vector<int64_t> &cu, int64_t tokens) {
  if (cu.empty() || cu.front() != 0 || (tokens >= 0 && cu.back() != tokens))
    return false;
  for (size_t i = 1; i < cu.size(); ++i)
    if (cu[i] < cu[i - 1])
      return false;
  return true;
}

/// Same rank, and every dimension known in both equal.
bool agree(const Shape &a, const Shape &b) {
  if (a.size() != b.size())
    return false;
  for (size_t d = 0; d < a.size(); ++d)
    if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d])
      return false;
  return true;
}

/// NumPy broadcasting. A size of 1 stretches; an unknown size is taken to
/// fit (it is 1 or the other size on verified IR, and checked when known).
bool broadcast(const std::vector<const Shape *> &shapes, Shape &out) {
  size_t rank = 0;
  for (const Shape *shape : shapes)
    rank = std::max(rank, shape->size());
  out.assign(rank, 1);
  for (const Shape *shape : shapes)
    for (size_t d = 0; d < shape->size(); ++d) {
      int64_t &into = out[rank - shape->size() + d];
      int64_t size = (*shape)[d];
      if (size == 1)
        continue;
      if (size >= 0 && into >= 0 && into != 1 && into != size)
        return false;
      if (size >= 0 || into == 1)
        into = size;
    }
  return true;
}

/// The context a rule runs in: the instruction, its operands, and the
/// results it fills.
struct Rule {
  const rt::Instruction &op;
  const std::vector<const ValueShape *> &in;
  const std::vector<const rt::TensorType *> &declared;
  std::vector<ValueShape> &out;
  std::string &why;

  bool fail(const std::string &text) {
    why = text;
    return false;
  }
  const Shape &shape(size_t operand) const { return in[operand]->shape; }
  int64_t attribute(size_t slot) const { return op.ints[slot]; }
  bool axisIn(int64_t axis, const Shape &of) {
    return (axis >= 0 && size_t(axis) < of.size()) ||
           fail("axis " + std::to_string(axis) + " is out of range for " + describe(of));
  }
  bool rankAtLeast(size_t operand, size_t rank, const char *what) {
    return shape(operand).size() >= rank ||
           fail(std::string(what) + " " + describe(shape(operand)) + " has rank below " +
                std::to_string(rank));
  }
  /// Rank 2: an embedding table's [rows, width].
  bool table(size_t operand) {
    return shape(operand).size() == 2 ||
           fail("the table " + describe(shape(operand)) + " is not [rows, width]");
  }
  /// Rank 1 or 2: the [batch] or [batch, width] ids of a feature column.
  bool ids(size_t operand) {
    size_t rank = shape(operand).size();
    return rank == 1 || rank == 2 ||
           fail("ids " + describe(shape(operand)) + " are not [batch] or [batch, width]");
  }
  /// `shape` with its first `skip` dimensions replaced by `leading`.
  static Shape withLeading(Shape leading, const Shape &shape, size_t skip) {
    leading.insert(leading.end(), shape.begin() + std::min(skip, shape.size()), shape.end());
    return leading;
  }

  bool matmul();
  bool reshape();
  bool concat();
  bool slice();
  bool unpad();
  bool pad();
  bool collective();
  bool special();
};

bool Rule::matmul() {
  if (!rankAtLeast(0, 2, "lhs") || !rankAtLeast(1, 2, "rhs"))
    return false;
  const Shape &a = shape(0), &b = shape(1);
  bool tl = attribute(slot::matmul::transposeLhs) != 0;
  bool tr = attribute(slot::matmul::transposeRhs) != 0;
  size_t ra = a.size(), rb = b.size();
  int64_t m = tl ? a[ra - 1] : a[ra - 2], k = tl ? a[ra - 2] : a[ra - 1];
  int64_t rk = tr ? b[rb - 1] : b[rb - 2], n = tr ? b[rb - 2] : b[rb - 1];
  if (k >= 0 && rk >= 0 && k != rk)
    return fail("operands " + describe(a) + " and " + describe(b) + " do not multiply");
  Shape batchA(a.begin(), a.end() - 2), batchB(b.begin(), b.end() - 2);
  if (!broadcast({&batchA, &batchB}, out[0].shape))
    return fail("batch dimensions of " + describe(a) + " and " + describe(b) +
                " do not broadcast");
  out[0].shape.push_back(m);
  out[0].shape.push_back(n);
  return true;
}

/// The dialect's rule: leading dimensions the operand's and result's types
/// share pass through; one other dynamic dimension takes the rest.
bool Rule::reshape() {
  const Shape &target = op.results[0].shape, &from = declared[0]->shape, &x = shape(0);
  size_t shared = 0;
  while (shared < from.size() && shared < target.size() && shared < x.size() &&
         from[shared] == target[shared])
    ++shared;
  Shape &result = out[0].shape;
  result = target;
  int64_t known = 1;
  int inferred = -1;
  for (size_t d = 0; d < result.size(); ++d) {
    if (result[d] < 0 && d < shared)
      result[d] = x[d];
    else if (result[d] < 0) {
      if (inferred >= 0)
        return fail("cannot infer two dimensions of " + describe(target));
      inferred = int(d);
      continue;
    }
    known = product(known, result[d]);
  }
  int64_t count = in[0]->numElements();
  if (inferred >= 0)
    result[size_t(inferred)] = count < 0 || known < 0 ? kUnknown : known ? count / known : 0;
  int64_t total = 1;
  for (int64_t size : result)
    total = product(total, size);
  if (count >= 0 && total >= 0 && total != count)
    return fail("cannot reshape " + describe(x) + " into " + describe(target));
  return true;
}

bool Rule::concat() {
  int64_t axis = attribute(slot::concat::axis);
  const Shape &first = shape(0);
  if (!axisIn(axis, first))
    return false;
  Shape &result = out[0].shape;
  result = first;
  result[size_t(axis)] = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const Shape &part = shape(i);
    bool fits = part.size() == first.size();
    for (size_t d = 0; fits && d < part.size(); ++d)
      fits = int64_t(d) == axis || part[d] < 0 || first[d] < 0 || part[d] == first[d];
    if (!fits)
      return fail("operands " + describe(first) + " and " + describe(part) +
                  " do not concatenate along axis " + std::to_string(axis));
    result[size_t(axis)] = result[size_t(axis)] < 0 || part[size_t(axis)] < 0
                               ? kUnknown
                               : result[size_t(axis)] + part[size_t(axis)];
  }
  return true;
}

bool Rule::slice() {
  int64_t axis = attribute(slot::slice::axis), start = attribute(slot::slice::start),
          limit = attribute(slot::slice::limit);
  const Shape &x = shape(0);
  if (!axisIn(axis, x))
    return false;
  int64_t size = x[size_t(axis)];
  if (start < 0 || limit < start || (size >= 0 && limit > size))
    return fail("slice [" + std::to_string(start) + ", " + std::to_string(limit) +
                ") of axis " + std::to_string(axis) + " does not fit " + describe(x));
  out[0].shape = x;
  out[0].shape[size_t(axis)] = limit - start;
  return true;
}

/// [B, S, ...] and lengths [B] -> packed [T, ...] and cu_seqlens [B + 1].
bool Rule::unpad() {
  if (!rankAtLeast(0, 2, "the padded input"))
    return false;
  const Shape &x = shape(0), &lengths = shape(1);
  if (lengths.size() != 1 || (lengths[0] >= 0 && x[0] >= 0 && lengths[0] != x[0]))
    return fail("lengths " + describe(lengths) + " do not fit the input " + describe(x));
  ValueShape &cu = out[1];
  cu.shape = {x[0] < 0 ? kUnknown : x[0] + 1};
  int64_t tokens = kUnknown;
  if (in[1]->known) {
    cu.data.push_back(0);
    for (int64_t length : in[1]->data) {
      if (length < 0 || (x[1] >= 0 && length > x[1]))
        return fail("a length of " + std::to_string(length) + " does not fit the padded length " +
                    std::to_string(x[1]));
      cu.data.push_back(cu.data.back() + length);
    }
    cu.known = true;
    tokens = cu.data.back();
  }
  out[0].shape = withLeading({tokens}, x, 2);
  return true;
}

/// Packed [T, ...] and cu_seqlens [B + 1] -> [B, S, ...] and lengths [B],
/// S the declared padded length or else the longest sequence.
bool Rule::pad() {
  if (!rankAtLeast(0, 1, "the packed input"))
    return false;
  const Shape &cu = shape(1);
  if (cu.size() != 1 || cu[0] == 0)
    return fail("cu_seqlens " + describe(cu) + " is not [batch + 1]");
  int64_t batch = cu[0] < 0 ? kUnknown : cu[0] - 1;
  const Shape &declaredPadded = op.results[0].shape;
  int64_t padded = declaredPadded.size() > 1 ? declaredPadded[1] : kUnknown;
  ValueShape &lengths = out[1];
  if (in[1]->known) {
    if (!validOffsets(in[1]->data, shape(0)[0]))
      return fail("cu_seqlens do not run from 0 up to the packed rows " + describe(shape(0)));
    int64_t longest = 0;
    for (size_t s = 0; s + 1 < in[1]->data.size(); ++s) {
      lengths.data.push_back(in[1]->data[s + 1] - in[1]->data[s]);
      longest = std::max(longest, lengths.data.back());
    }
    lengths.known = true;
    if (padded >= 0 && longest > padded)
      return fail("a sequence of " + std::to_string(longest) +
                  " tokens does not fit the padded length " + std::to_string(padded));
    if (padded < 0)
      padded = longest;
  }
  lengths.shape = {batch};
  out[0].shape = withLeading({batch, padded}, shape(0), 1);
  return true;
}

/// ZeRO's partition: n elements in shards of ceil(n / ranks).
bool Rule::collective() {
  int64_t ranks = attribute(slot::collective::ranks);
  if (ranks < 1)
    return fail("runs over " + std::to_string(ranks) + " ranks");
  switch (op.opcode) {
  case Opcode::AllReduce:
    out[0].shape = shape(0);
    return true;
  case Opcode::ReduceScatter: case Opcode::ShardSlice: {
    int64_t n = in[0]->numElements();
    out[0].shape = {n < 0 ? kUnknown : (n + ranks - 1) / ranks};
    return true;
  }
  case Opcode::AllGather: // the whole tensor's static shape
    out[0].shape = op.results[0].shape;
    return true;
  case Opcode::AllGatherRows: // every rank's rows: known once they arrive
    if (!rankAtLeast(0, 1, "the rows"))
      return false;
    out[0].shape = withLeading({kUnknown}, shape(0), 1);
    return true;
  default: // Rank, which reads no operand
    out[0].shape = {};
    return true;
  }
}

bool Rule::special() {
  switch (op.opcode) {
  case Opcode::Cast:
    out[0].shape = shape(0);
    if (in[0]->known && !rt::isFloat(op.results[0].dtype)) { // lengths cast to i32, say
      out[0].data = in[0]->data;
      out[0].known = true;
    }
    return true;
  case Opcode::Matmul:
    return matmul();
  case Opcode::ReduceSum: case Opcode::ReduceMax: {
    int64_t axis = attribute(slot::reduce::axis);
    if (!axisIn(axis, shape(0)))
      return false;
    out[0].shape = shape(0);
    if (attribute(slot::reduce::keepDims))
      out[0].shape[size_t(axis)] = 1;
    else
      out[0].shape.erase(out[0].shape.begin() + axis);
    return true;
  }
  case Opcode::Transpose: {
    const Shape &x = shape(0);
    std::vector<bool> seen(x.size(), false);
    if (op.ints.size() != x.size())
      return fail("permutes " + std::to_string(op.ints.size()) + " dimensions of " +
                  describe(x));
    for (int64_t axis : op.ints) {
      if (axis < 0 || size_t(axis) >= x.size() || seen[size_t(axis)])
        return fail("has an invalid permutation");
      seen[size_t(axis)] = true;
      out[0].shape.push_back(x[size_t(axis)]);
    }
    return true;
  }
  case Opcode::Reshape:
    return reshape();
  case Opcode::Concat:
    return concat();
  case Opcode::Slice:
    return slice();
  case Opcode::Constant:
    out[0].shape = op.results[0].shape;
    return out[0].isStatic() || fail("a constant has a dynamic shape");
  case Opcode::Embedding:
    if (!table(0))
      return false;
    out[0].shape = shape(1);
    out[0].shape.push_back(shape(0)[1]);
    return true;
  case Opcode::Attention:
    if (!rankAtLeast(0, 2, "the query") || !rankAtLeast(2, 1, "the value"))
      return false;
    out[0].shape = shape(0);
    out[0].shape.back() = shape(2).back();
    if (out.size() > 1) // the log-sum-exp per query row and head
      out[1].shape.assign(shape(0).begin(), shape(0).end() - 1);
    return true;
  case Opcode::BroadcastLike: {
    Shape both;
    if (!broadcast({&shape(0), &shape(1)}, both) || !agree(both, shape(1)))
      return fail(describe(shape(0)) + " does not broadcast to " + describe(shape(1)));
    out[0].shape = shape(1);
    return true;
  }
  case Opcode::AttentionGrad: case Opcode::AdamwRows:
    for (size_t r = 0; r < out.size(); ++r)
      out[r].shape = shape(r);
    return true;
  case Opcode::AllReduce: case Opcode::ReduceScatter: case Opcode::AllGather:
  case Opcode::AllGatherRows: case Opcode::ShardSlice: case Opcode::Rank:
    return collective();
  case Opcode::Unpad:
    return unpad();
  case Opcode::Pad:
    return pad();
  case Opcode::SegmentReduce:
    if (!rankAtLeast(0, 1, "the packed input") || shape(1).size() != 1 || shape(1)[0] == 0)
      return fail("cu_seqlens " + describe(shape(1)) + " is not [batch + 1]");
    out[0].shape = withLeading({shape(1)[0] < 0 ? kUnknown : shape(1)[0] - 1}, shape(0), 1);
    return true;
  case Opcode::Positions:
    if (shape(0).size() != 1)
      return fail("cu_seqlens " + describe(shape(0)) + " is not [batch + 1]");
    if (in[0]->known && !validOffsets(in[0]->data, kUnknown))
      return fail("cu_seqlens do not run from 0 upwards");
    out[0].shape = {in[0]->known ? in[0]->data.back() : kUnknown};
    return true;
  case Opcode::FcCross: {
    int64_t combinations = 1;
    for (size_t i = 0; i < in.size(); ++i) {
      if (!ids(i))
        return false;
      if (shape(i)[0] >= 0 && shape(0)[0] >= 0 && shape(i)[0] != shape(0)[0])
        return fail("crossed ids " + describe(shape(0)) + " and " + describe(shape(i)) +
                    " have different batches");
      combinations = product(combinations, shape(i).size() > 1 ? shape(i)[1] : 1);
    }
    out[0].shape = {shape(0)[0]};
    if (op.results[0].shape.size() == 2)
      out[0].shape.push_back(combinations);
    else if (combinations > 1) // a [batch] result holds one combination per row
      return fail("crosses " + std::to_string(combinations) + " combinations per row");
    return true;
  }
  case Opcode::FcEmbeddingBag:
    if (!table(0) || !ids(1))
      return false;
    out[0].shape = {shape(1)[0], shape(0)[1]};
    return true;
  case Opcode::FcIndicator: {
    int64_t buckets = attribute(slot::fcIndicator::buckets);
    if (!ids(0))
      return false;
    if (buckets < 0)
      return fail("has " + std::to_string(buckets) + " buckets");
    out[0].shape = {shape(0)[0], buckets};
    return true;
  }
  default:
    return fail("has no shape rule");
  }
}

} // namespace

int64_t ValueShape::numElements(size_t from) const {
  int64_t count = 1;
  for (size_t d = from; d < shape.size(); ++d)
    count = product(count, shape[d]);
  return count;
}

bool ValueShape::isStatic() const {
  return std::all_of(shape.begin(), shape.end(), [](int64_t size) { return size >= 0; });
}

bool shapeReadsValues(fb::Opcode opcode, size_t operand) {
  switch (opcode) {
  case Opcode::Unpad: case Opcode::Pad: return operand == 1; // lengths, cu_seqlens
  case Opcode::Positions: return operand == 0;               // cu_seqlens
  default: return false;
  }
}

bool fitsType(const std::vector<int64_t> &shape, const rt::TensorType &type) {
  return agree(shape, type.shape);
}

bool inferShapes(const rt::Instruction &op, const std::vector<const ValueShape *> &operands,
                 const std::vector<const rt::TensorType *> &declared,
                 std::vector<ValueShape> &results, std::string &why) {
  results.assign(op.results.size(), {});
  Rule rule{op, operands, declared, results, why};
  switch (info(op.opcode).shape) {
  case ShapeRule::Broadcast: {
    std::vector<const Shape *> shapes;
    for (const ValueShape *operand : operands)
      shapes.push_back(&operand->shape);
    if (!broadcast(shapes, results[0].shape)) {
      std::string all;
      for (const Shape *shape : shapes)
        all += (all.empty() ? "" : ", ") + describe(*shape);
      return rule.fail("operand shapes " + all + " do not broadcast");
    }
    break;
  }
  case ShapeRule::SameAsFirst:
    results[0].shape = operands[0]->shape;
    break;
  case ShapeRule::Special:
    if (!rule.special())
      return false;
    break;
  }
  for (size_t r = 0; r < results.size(); ++r)
    if (!fitsType(results[r].shape, op.results[r]))
      return rule.fail("result #" + std::to_string(r) + " is " + describe(results[r].shape) +
                       " where the package declares " + describe(op.results[r].shape));
  return true;
}

} // namespace lmc::ops
