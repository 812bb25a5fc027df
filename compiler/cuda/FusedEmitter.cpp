//===- FusedEmitter.cpp - CUDA C for fused kernels, in gather form --------===//
//
// Every value of a fused kernel is either in memory (a kernel argument, a
// yielded result, scratch) or computed inline where it is read: an entry
// point computes one in-memory value, one thread per element, by asking
// each operand for its element at an index derived from the output index
// (broadcast, transpose, reshape, concat, slice, gather, pad and unpad are
// index arithmetic). A value goes to memory when it is yielded, read twice,
// or costs a loop (reductions, segment sums, embedding bags, matmuls);
// layer_norm, rms_norm and softmax over the last axis get a warp per row
// with the row held in registers.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/CudaPrelude.h"
#include "compiler/cuda/KernelEmitter.h"

#include "cpu/HalfFloat.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace mlir::lmc::cuda {
namespace {

namespace rt = ::lmc::rt;
using rt::DType;
using rt::Opcode;

/// Threads per block of element entry points; warps per block of row ones.
constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;
/// Rows up to this width are held in registers (32 lanes x 32 floats).
constexpr int64_t kMaxCachedWidth = 1024;
/// Constants above this many elements are refused (they belong in a
/// parameter, not in the source).
constexpr size_t kMaxConstantElements = 1 << 16;

using Index = std::vector<std::string>;

std::string join(const Index &index, const char *separator) {
  std::string out;
  for (size_t i = 0; i < index.size(); ++i)
    out += (i ? separator : "") + index[i];
  return out;
}

const char *computeType(DType dtype) {
  switch (dtype) {
  case DType::F32: case DType::F16: case DType::BF16: return "float";
  case DType::I64: case DType::I32: return "i64";
  default: return "bool";
  }
}

const char *storageType(DType dtype) {
  switch (dtype) {
  case DType::F32: return "float";
  case DType::F16: return "__half";
  case DType::BF16: return "__nv_bfloat16";
  case DType::I64: return "i64";
  case DType::I32: return "int";
  default: return "unsigned char";
  }
}

bool isFloat(DType dtype) { return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16; }

std::string rounded(DType dtype, const std::string &expr) {
  if (dtype == DType::F16) return "lmc_round_f16(" + expr + ")";
  if (dtype == DType::BF16) return "lmc_round_bf16(" + expr + ")";
  return expr;
}

std::string literal(double value) {
  if (std::isnan(value)) return "__int_as_float(0x7fc00000)";
  if (std::isinf(value)) return value > 0 ? "__int_as_float(0x7f800000)" : "__int_as_float(0xff800000)";
  std::ostringstream out;
  out.precision(9);
  out << float(value);
  std::string text = out.str();
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text + "f";
}

std::string literal(int64_t value) {
  if (value == INT64_MIN) return "(-0x7fffffffffffffffLL - 1)";
  return std::to_string(value) + "LL";
}

class FusedEmitter {
public:
  FusedEmitter(const rt::Plan &plan, const rt::Kernel &kernel) : plan(plan), kernel(kernel) {}

  bool emit(EmittedKernel &out, std::string &error);

private:
  struct Producer {
    int instruction = -1; // -1 for a kernel argument
    int result = 0;
  };

  const rt::TensorType &type(int v) const { return *types[size_t(v)]; }
  size_t rank(int v) const { return type(v).shape.size(); }
  const rt::Instruction &producerOf(int v) const {
    return kernel.body[size_t(producers[size_t(v)].instruction)];
  }
  bool fail(const std::string &message) {
    if (failure.empty())
      failure = message;
    return false;
  }
  bool failOp(const rt::Instruction &instruction, const std::string &message) {
    return fail(std::string(rt::opcodeName(instruction.opcode)) + " " + message);
  }

  // Source building.
  void line(const std::string &text) { body += std::string(size_t(indent) * 2, ' ') + text + "\n"; }
  std::string temp(const char *ctype, const std::string &expr) {
    std::string name = "t" + std::to_string(temps++);
    line("const " + std::string(ctype) + " " + name + " = " + expr + ";");
    return name;
  }
  std::string variable(const char *ctype, const std::string &init) {
    std::string name = "t" + std::to_string(temps++);
    line(std::string(ctype) + " " + name + " = " + init + ";");
    return name;
  }
  void open(const std::string &head) {
    line(head + " {");
    ++indent;
    scopes.emplace_back();
  }
  void close(const std::string &tail = "}") {
    scopes.pop_back();
    --indent;
    line(tail);
  }

  // Names of entry-point parameters, recorded as they are used.
  std::string extent(int v, size_t axis);
  std::string numElements(int v, size_t from = 0);
  std::string pointer(int v);
  std::string table(int index);
  std::string tableSize(int index);
  std::string linear(int v, const Index &index);

  /// The element of `v` at `index`, in compute precision: a load when `v`
  /// is in memory, its op's expression otherwise.
  std::string valueAt(int v, const Index &index);
  std::string compute(int v, const Index &index);
  std::string broadcastOperand(int operand, int result, const Index &index, Index &mapped);
  std::string computeElementwise(const rt::Instruction &op, int v, const Index &index);
  std::string computeDataMovement(const rt::Instruction &op, int v, const Index &index);
  std::string computeSequence(const rt::Instruction &op, int v, const Index &index);
  std::string computeFeatureColumn(const rt::Instruction &op, int v, const Index &index);
  std::string computeReduction(const rt::Instruction &op, int v, const Index &index);
  std::string computeMatmul(const rt::Instruction &op, int v, const Index &index);
  std::string constantData(const rt::Instruction &op);

  bool isRowStage(int v) const;
  bool emitElementStage(int v, const std::string &entry);
  bool emitRowStage(int v, const std::string &entry);
  std::string signature(const std::string &entry, int bounds, rt::Launch &launch);

  const rt::Plan &plan;
  const rt::Kernel &kernel;
  std::vector<const rt::TensorType *> types;
  std::vector<Producer> producers;
  std::vector<int> uses;
  std::vector<bool> inMemory;
  std::vector<bool> written;

  std::string failure;
  std::string declarations; // constants, before the entry points
  std::set<int> constantsDeclared;
  // The entry point being emitted.
  std::string body;
  int indent = 0, temps = 0, computing = -1;
  std::vector<std::map<std::string, std::string>> scopes;
  std::set<int> pointers, tables;
  std::set<std::pair<int, size_t>> extents;
  std::vector<rt::Launch> stages;
};

std::string FusedEmitter::extent(int v, size_t axis) {
  int64_t size = type(v).shape[axis];
  if (size >= 0)
    return literal(size);
  extents.insert({v, axis});
  return "e" + std::to_string(v) + "_" + std::to_string(axis);
}

std::string FusedEmitter::numElements(int v, size_t from) {
  std::string out;
  for (size_t d = from; d < rank(v); ++d)
    out += (out.empty() ? "" : " * ") + extent(v, d);
  return out.empty() ? "1LL" : out;
}

std::string FusedEmitter::pointer(int v) {
  pointers.insert(v);
  return "p" + std::to_string(v);
}

std::string FusedEmitter::table(int index) {
  tables.insert(index);
  return "table" + std::to_string(index);
}

std::string FusedEmitter::tableSize(int index) {
  tables.insert(index);
  return "table" + std::to_string(index) + "_size";
}

std::string FusedEmitter::linear(int v, const Index &index) {
  if (index.empty())
    return "0";
  std::string out = index[0];
  for (size_t d = 1; d < index.size(); ++d)
    out = "(" + out + ") * " + extent(v, d) + " + " + index[d];
  return out;
}

std::string FusedEmitter::valueAt(int v, const Index &index) {
  std::string key = std::to_string(v) + "@" + join(index, ",");
  for (auto scope = scopes.rbegin(); scope != scopes.rend(); ++scope)
    if (auto found = scope->find(key); found != scope->end())
      return found->second;
  std::string result;
  if (inMemory[size_t(v)] && v != computing)
    result = temp(computeType(type(v).dtype),
                  "lmc_load(" + pointer(v) + ", " + linear(v, index) + ")");
  else
    result = compute(v, index);
  scopes.back()[key] = result;
  return result;
}

std::string FusedEmitter::compute(int v, const Index &index) {
  if (producers[size_t(v)].instruction < 0) {
    fail("value " + std::to_string(v) + " is an argument computed in the kernel");
    return "0";
  }
  int saved = computing;
  computing = -1; // operands of v are read, never recomputed as v
  const rt::Instruction &op = producerOf(v);
  std::string result;
  switch (op.opcode) {
  case Opcode::Add: case Opcode::Sub: case Opcode::Mul: case Opcode::Div: case Opcode::Max:
  case Opcode::Min: case Opcode::Neg: case Opcode::Exp: case Opcode::Tanh: case Opcode::Rsqrt:
  case Opcode::Erf: case Opcode::Compare: case Opcode::Select: case Opcode::Cast:
  case Opcode::Gelu:
    result = computeElementwise(op, v, index);
    break;
  case Opcode::Transpose: case Opcode::Reshape: case Opcode::Concat: case Opcode::Slice:
  case Opcode::Constant: case Opcode::Embedding:
    result = computeDataMovement(op, v, index);
    break;
  case Opcode::Unpad: case Opcode::Pad: case Opcode::SegmentReduce: case Opcode::Positions:
    result = computeSequence(op, v, index);
    break;
  case Opcode::ReduceSum: case Opcode::ReduceMax: case Opcode::Softmax:
    result = computeReduction(op, v, index);
    break;
  case Opcode::Matmul:
    result = computeMatmul(op, v, index);
    break;
  case Opcode::FcNumeric: case Opcode::FcBucketize: case Opcode::FcHashBucket:
  case Opcode::FcVocabLookup: case Opcode::FcIdentity: case Opcode::FcCross:
  case Opcode::FcEmbeddingBag: case Opcode::FcIndicator:
    result = computeFeatureColumn(op, v, index);
    break;
  default:
    failOp(op, "has no gather form (it runs as its own stage)");
    result = "0";
  }
  computing = saved;
  return result;
}

std::string FusedEmitter::broadcastOperand(int operand, int result, const Index &index,
                                           Index &mapped) {
  size_t offset = rank(result) - std::min(rank(result), rank(operand));
  mapped.clear();
  for (size_t d = 0; d < rank(operand); ++d) {
    int64_t size = type(operand).shape[d];
    const std::string &at = index[offset + d];
    int64_t resultSize = type(result).shape[offset + d];
    if (size == 1 && resultSize != 1)
      mapped.push_back("0");
    else if (size < 0)
      mapped.push_back("(" + extent(operand, d) + " == 1 ? 0 : " + at + ")");
    else
      mapped.push_back(at);
  }
  return valueAt(operand, mapped);
}

std::string FusedEmitter::computeElementwise(const rt::Instruction &op, int v,
                                             const Index &index) {
  DType dtype = type(v).dtype;
  Index mapped;
  std::vector<std::string> in;
  for (int operand : op.operands)
    in.push_back(broadcastOperand(operand, v, index, mapped));
  bool floats = isFloat(dtype);
  auto binary = [&](const char *symbol, const char *function) {
    if (!floats && (op.opcode == Opcode::Add || op.opcode == Opcode::Sub ||
                    op.opcode == Opcode::Mul)) // two's complement wrap, as on the CPU
      return temp("i64", "(i64)((u64)" + in[0] + " " + symbol + " (u64)" + in[1] + ")");
    if (!floats && op.opcode == Opcode::Div)
      return temp("i64", "lmc_div(" + in[0] + ", " + in[1] + ")");
    std::string expr = function ? std::string(function) + "(" + in[0] + ", " + in[1] + ")"
                                : in[0] + " " + symbol + " " + in[1];
    return temp(computeType(dtype), floats ? rounded(dtype, expr) : expr);
  };
  auto unary = [&](const char *function) {
    if (!floats)
      return temp("i64", "(i64)(0 - (u64)" + in[0] + ")");
    return temp("float", rounded(dtype, std::string(function) + "(" + in[0] + ")"));
  };
  switch (op.opcode) {
  case Opcode::Add: return binary("+", nullptr);
  case Opcode::Sub: return binary("-", nullptr);
  case Opcode::Mul: return binary("*", nullptr);
  case Opcode::Div: return binary("/", nullptr);
  case Opcode::Max: return binary("", "lmc_max");
  case Opcode::Min: return binary("", "lmc_min");
  case Opcode::Neg: return unary("-");
  case Opcode::Exp: return unary("expf");
  case Opcode::Tanh: return unary("tanhf");
  case Opcode::Rsqrt: return unary("1.0f / sqrtf");
  case Opcode::Erf: return unary("erff");
  case Opcode::Gelu:
    return temp("float", rounded(dtype, std::string(op.ints[0] ? "lmc_gelu_tanh(" : "lmc_gelu_erf(") +
                                            in[0] + ")"));
  case Opcode::Compare: {
    static const char *symbols[] = {"==", "!=", "<", "<=", ">", ">="};
    if (op.ints[0] < 0 || op.ints[0] > 5)
      return failOp(op, "has an unknown predicate"), "false";
    bool real = isFloat(type(op.operands[0]).dtype) || isFloat(type(op.operands[1]).dtype);
    std::string a = real ? "(double)" + in[0] : in[0], b = real ? "(double)" + in[1] : in[1];
    return temp("bool", a + " " + symbols[op.ints[0]] + " " + b);
  }
  case Opcode::Select:
    return temp(computeType(dtype), in[0] + " ? " + in[1] + " : " + in[2]);
  default: { // Cast
    DType from = type(op.operands[0]).dtype;
    if (dtype == DType::I1)
      return temp("bool", in[0] + " != 0");
    if (floats)
      return temp("float", rounded(dtype, isFloat(from) ? in[0] : "(float)" + in[0]));
    std::string integer = isFloat(from) ? "lmc_to_integer(" + in[0] + ")" : "(i64)" + in[0];
    return temp("i64", dtype == DType::I32 ? "(i64)(int)" + integer : integer);
  }
  }
}

std::string FusedEmitter::constantData(const rt::Instruction &op) {
  int index = int(op.ints[0]);
  std::string name = "lmc_constant" + std::to_string(index);
  if (!constantsDeclared.insert(index).second)
    return name;
  const rt::Constant &constant = plan.constants[size_t(index)];
  size_t count = constant.data.size() / std::max<size_t>(rt::dtypeSize(constant.type.dtype), 1);
  if (count > kMaxConstantElements) {
    failOp(op, "holds " + std::to_string(count) + " elements; more than " +
                   std::to_string(kMaxConstantElements) + " belong in a parameter");
    return name;
  }
  std::string values;
  const uint8_t *data = constant.data.data();
  for (size_t i = 0; i < count; ++i) {
    uint16_t half;
    int32_t i32;
    int64_t i64;
    float f32;
    switch (constant.type.dtype) {
    case DType::F32: std::memcpy(&f32, data + 4 * i, 4); values += literal(double(f32)); break;
    case DType::F16:
      std::memcpy(&half, data + 2 * i, 2);
      values += literal(double(::lmc::cpu::halfToFloat(half)));
      break;
    case DType::BF16: {
      std::memcpy(&half, data + 2 * i, 2);
      uint32_t bits = uint32_t(half) << 16;
      std::memcpy(&f32, &bits, 4);
      values += literal(double(f32));
      break;
    }
    case DType::I64: std::memcpy(&i64, data + 8 * i, 8); values += literal(i64); break;
    case DType::I32: std::memcpy(&i32, data + 4 * i, 4); values += literal(int64_t(i32)); break;
    default: values += data[i] ? "true" : "false"; break;
    }
    values += (i + 1) % 8 == 0 ? ",\n  " : ", ";
  }
  declarations += "// lmc.constant #" + std::to_string(index) + "\n__device__ const " +
                  computeType(constant.type.dtype) + " " + name + "[" +
                  std::to_string(std::max<size_t>(count, 1)) + "] = {\n  " +
                  (count ? values : "0") + "};\n\n";
  return name;
}

std::string FusedEmitter::computeDataMovement(const rt::Instruction &op, int v,
                                              const Index &index) {
  int x = op.operands.empty() ? -1 : op.operands[0];
  switch (op.opcode) {
  case Opcode::Transpose: {
    Index mapped(index.size());
    for (size_t d = 0; d < index.size() && d < op.ints.size(); ++d)
      mapped[size_t(op.ints[d])] = index[d];
    return valueAt(x, mapped);
  }
  case Opcode::Reshape: {
    std::string flat = temp("i64", linear(v, index));
    Index mapped(rank(x));
    std::string rest = flat;
    for (size_t d = rank(x); d-- > 0;) {
      if (d == 0) {
        mapped[d] = rest;
        break;
      }
      mapped[d] = temp("i64", rest + " % " + extent(x, d));
      rest = temp("i64", rest + " / " + extent(x, d));
    }
    return valueAt(x, mapped);
  }
  case Opcode::Slice: {
    Index mapped = index;
    size_t axis = size_t(op.ints[0]);
    mapped[axis] = "(" + index[axis] + " + " + literal(op.ints[1]) + ")";
    return valueAt(x, mapped);
  }
  case Opcode::Concat: {
    size_t axis = size_t(op.ints[0]);
    std::string result = variable(computeType(type(v).dtype), "0");
    std::string start = "0LL";
    for (size_t i = 0; i < op.operands.size(); ++i) {
      int part = op.operands[i];
      std::string end = "(" + start + " + " + extent(part, axis) + ")";
      bool last = i + 1 == op.operands.size();
      open(std::string(i ? "else " : "") + (last ? "" : "if (" + index[axis] + " < " + end + ")"));
      Index mapped = index;
      mapped[axis] = "(" + index[axis] + " - " + start + ")";
      line(result + " = " + valueAt(part, mapped) + ";");
      close();
      start = end;
    }
    return result;
  }
  case Opcode::Constant: {
    std::string data = constantData(op);
    return temp(computeType(type(v).dtype), data + "[" + linear(v, index) + "]");
  }
  default: { // Embedding (table, ids): an id outside the table reads a zero row
    int ids = op.operands[1];
    Index idsIndex(index.begin(), index.end() - 1);
    std::string id = valueAt(ids, idsIndex);
    std::string rows = extent(x, 0);
    std::string result = variable("float", "0.0f");
    open("if (" + id + " >= 0 && " + id + " < " + rows + ")");
    line(result + " = lmc_load(" + pointer(x) + ", " + id + " * " + extent(x, 1) + " + " +
         index.back() + ");");
    close();
    if (!inMemory[size_t(x)])
      failOp(op, "reads a table that is not in memory");
    return result;
  }
  }
}

std::string FusedEmitter::computeSequence(const rt::Instruction &op, int v, const Index &index) {
  switch (op.opcode) {
  case Opcode::Unpad: {
    int padded = op.operands[0], lengths = op.operands[1];
    int cu = v - producers[size_t(v)].result + 1; // the op's second result
    if (producers[size_t(v)].result == 1) {
      // cu_seqlens[i] = sum of the first i lengths.
      std::string sum = variable("i64", "0");
      open("for (i64 j = 0; j < " + index[0] + "; ++j)");
      line(sum + " += " + valueAt(lengths, {"j"}) + ";");
      close();
      return sum;
    }
    if (!inMemory[size_t(cu)])
      return failOp(op, "needs cu_seqlens in memory"), "0";
    std::string segment = temp("i64", "lmc_segment_of(" + pointer(cu) + ", " + extent(lengths, 0) +
                                          ", " + index[0] + ")");
    std::string position =
        temp("i64", index[0] + " - lmc_load(" + pointer(cu) + ", " + segment + ")");
    Index mapped{segment, position};
    mapped.insert(mapped.end(), index.begin() + 1, index.end());
    return valueAt(padded, mapped);
  }
  case Opcode::Pad: {
    int packed = op.operands[0], cu = op.operands[1];
    std::string begin = valueAt(cu, {index[0]});
    std::string end = valueAt(cu, {"(" + index[0] + " + 1)"});
    if (producers[size_t(v)].result == 1)
      return temp("i64", end + " - " + begin);
    std::string result = variable(computeType(type(v).dtype), "0");
    open("if (" + index[1] + " < " + end + " - " + begin + ")");
    Index mapped{"(" + begin + " + " + index[1] + ")"};
    mapped.insert(mapped.end(), index.begin() + 2, index.end());
    line(result + " = " + valueAt(packed, mapped) + ";");
    close();
    return result;
  }
  case Opcode::Positions: {
    int cu = op.operands[0];
    if (!inMemory[size_t(cu)])
      return failOp(op, "needs cu_seqlens in memory"), "0";
    std::string segment = temp("i64", "lmc_segment_of(" + pointer(cu) + ", " +
                                          extent(cu, 0) + " - 1, " + index[0] + ")");
    return temp("i64", index[0] + " - lmc_load(" + pointer(cu) + ", " + segment + ")");
  }
  default: { // SegmentReduce: sum, mean, max, first; an empty segment gives 0
    int packed = op.operands[0], cu = op.operands[1];
    int64_t kind = op.ints[0];
    std::string begin = valueAt(cu, {index[0]});
    std::string end = valueAt(cu, {"(" + index[0] + " + 1)"});
    std::string acc = variable("float", "0.0f");
    Index first{begin}, mapped{"t"};
    first.insert(first.end(), index.begin() + 1, index.end());
    mapped.insert(mapped.end(), index.begin() + 1, index.end());
    open("if (" + end + " > " + begin + ")");
    line(acc + " = " + valueAt(packed, first) + ";");
    if (kind != 3) {
      open("for (i64 t = " + begin + " + 1; t < " + end + "; ++t)");
      std::string x = valueAt(packed, mapped);
      line(kind == 2 ? acc + " = lmc_max(" + acc + ", " + x + ");" : acc + " += " + x + ";");
      close();
      if (kind == 1)
        line(acc + " /= (float)(" + end + " - " + begin + ");");
    }
    close();
    return temp("float", rounded(type(v).dtype, acc));
  }
  }
}

std::string FusedEmitter::computeReduction(const rt::Instruction &op, int v, const Index &index) {
  int x = op.operands[0];
  size_t axis = size_t(op.ints[0]);
  DType dtype = type(v).dtype;
  if (op.opcode == Opcode::Softmax) {
    // Softmax along an axis other than the last: two loops per element.
    Index at = index;
    at[axis] = "j";
    std::string top = variable("float", "-__int_as_float(0x7f800000)");
    open("for (i64 j = 0; j < " + extent(x, axis) + "; ++j)");
    line(top + " = lmc_max(" + top + ", " + valueAt(x, at) + ");");
    close();
    std::string sum = variable("float", "0.0f");
    open("for (i64 j = 0; j < " + extent(x, axis) + "; ++j)");
    line(sum + " += expf(" + valueAt(x, at) + " - " + top + ");");
    close();
    return temp("float", rounded(dtype, "expf(" + valueAt(x, index) + " - " + top + ") / " + sum));
  }
  bool keepDims = op.ints.size() > 1 && op.ints[1] != 0;
  Index at;
  for (size_t d = 0, i = 0; d < rank(x); ++d) {
    if (d == axis) {
      at.push_back("j");
      if (keepDims)
        ++i;
    } else {
      at.push_back(index[i++]);
    }
  }
  bool sum = op.opcode == Opcode::ReduceSum;
  const char *ctype = computeType(dtype);
  std::string acc = variable(ctype, sum ? (isFloat(dtype) ? "0.0f" : "0")
                                        : (isFloat(dtype) ? "-__int_as_float(0x7f800000)"
                                                          : "(-0x7fffffffffffffffLL - 1)"));
  open("for (i64 j = 0; j < " + extent(x, axis) + "; ++j)");
  std::string element = valueAt(x, at);
  line(sum ? acc + " += " + element + ";" : acc + " = lmc_max(" + acc + ", " + element + ");");
  close();
  return isFloat(dtype) ? temp("float", rounded(dtype, acc)) : acc;
}

std::string FusedEmitter::computeMatmul(const rt::Instruction &op, int v, const Index &index) {
  int a = op.operands[0], b = op.operands[1];
  bool transposeA = op.ints.size() > 0 && op.ints[0], transposeB = op.ints.size() > 1 && op.ints[1];
  size_t r = index.size();
  // Leading (batch) dimensions broadcast; the last two are the product.
  auto operandIndex = [&](int operand, const std::string &row, const std::string &column,
                          bool transpose) {
    Index batch(index.begin(), index.end() - 2), mapped;
    size_t operandRank = rank(operand);
    for (size_t d = 0; d + 2 < operandRank; ++d) {
      size_t at = batch.size() - (operandRank - 2) + d;
      mapped.push_back(type(operand).shape[d] == 1 ? "0" : batch[at]);
    }
    mapped.push_back(transpose ? column : row);
    mapped.push_back(transpose ? row : column);
    return mapped;
  };
  std::string depth = transposeA ? extent(a, rank(a) - 2) : extent(a, rank(a) - 1);
  std::string acc = variable("float", "0.0f");
  open("for (i64 k = 0; k < " + depth + "; ++k)");
  std::string x = valueAt(a, operandIndex(a, index[r - 2], "k", transposeA));
  std::string y = valueAt(b, operandIndex(b, "k", index[r - 1], transposeB));
  line(acc + " += " + x + " * " + y + ";");
  close();
  return temp("float", rounded(type(v).dtype, acc));
}

std::string FusedEmitter::computeFeatureColumn(const rt::Instruction &op, int v,
                                               const Index &index) {
  int x = op.operands[0];
  switch (op.opcode) {
  case Opcode::FcNumeric: {
    std::string in = valueAt(x, index);
    std::string value = variable("float", in);
    if (op.ints[1])
      line("if (" + value + " != " + value + ") " + value + " = " + literal(op.reals[4]) + ";");
    switch (op.ints[0]) {
    case 1: line(value + " = (" + value + " - " + literal(op.reals[0]) + ") / " + literal(op.reals[1]) + ";"); break;
    case 2:
      line(value + " = (" + value + " - " + literal(op.reals[2]) + ") / (" + literal(op.reals[3]) +
           " - " + literal(op.reals[2]) + ");");
      break;
    case 3: line(value + " = log1pf(" + value + ");"); break;
    default: break;
    }
    return temp("float", rounded(type(v).dtype, value));
  }
  case Opcode::FcBucketize:
    return temp("i64", "lmc_bucket_of((const float *)" + table(op.table) + ", " +
                           tableSize(op.table) + ", " + valueAt(x, index) + ")");
  case Opcode::FcHashBucket:
    return temp("i64", "(i64)((u64)" + valueAt(x, index) + " % (u64)" + literal(op.ints[0]) + ")");
  case Opcode::FcVocabLookup: {
    std::string fingerprint = valueAt(x, index);
    std::string found = variable("i64", "lmc_vocab_find((const i64 *)" + table(op.table) + ", " +
                                            tableSize(op.table) + ", " + fingerprint + ")");
    std::string size = literal(int64_t(plan.featureTables[size_t(op.table)].fingerprints.size()));
    std::string missing = op.ints[0] > 0 ? size + " + (i64)((u64)" + fingerprint + " % (u64)" +
                                               literal(op.ints[0]) + ")"
                          : op.ints[1] ? literal(op.ints[2])
                                       : "-1LL";
    line("if (" + found + " < 0) " + found + " = " + missing + ";");
    return found;
  }
  case Opcode::FcIdentity: {
    std::string id = valueAt(x, index);
    std::string fallback = op.ints[1] ? literal(op.ints[2]) : "-1LL";
    return temp("i64", id + " >= 0 && " + id + " < " + literal(op.ints[0]) + " ? " + id + " : " +
                           fallback);
  }
  case Opcode::FcCross: {
    // Combination c of row b, the last input advancing fastest.
    std::string hash = variable("u64", "(u64)" + literal(op.ints[1]));
    std::string rest = variable("i64", index.size() > 1 ? index[1] : "0");
    std::vector<std::string> picks(op.operands.size());
    for (size_t i = op.operands.size(); i-- > 0;) {
      int input = op.operands[i];
      std::string width = rank(input) > 1 ? extent(input, 1) : "1LL";
      picks[i] = temp("i64", rest + " % " + width);
      line(rest + " /= " + width + ";");
    }
    for (size_t i = 0; i < op.operands.size(); ++i) {
      int input = op.operands[i];
      Index at{index[0]};
      if (rank(input) > 1)
        at.push_back(picks[i]);
      line(hash + " = lmc_fingerprint_cat64(" + hash + ", (u64)" + valueAt(input, at) + ");");
    }
    std::string buckets = op.ints[0] ? "(u64)" + literal(op.ints[0]) : "0x7fffffffffffffffULL";
    return temp("i64", "(i64)(" + hash + " % " + buckets + ")");
  }
  case Opcode::FcEmbeddingBag: {
    int ids = op.operands[1], weights = op.operands.size() > 2 ? op.operands[2] : -1;
    if (!inMemory[size_t(x)])
      return failOp(op, "reads a table that is not in memory"), "0";
    std::string width = rank(ids) > 1 ? extent(ids, 1) : "1LL";
    std::string dim = extent(x, 1), rows = extent(x, 0);
    std::string acc = variable("float", "0.0f"), weightSum = variable("float", "0.0f"),
                squares = variable("float", "0.0f");
    open("for (i64 j = 0; j < " + width + "; ++j)");
    Index at{index[0]};
    if (rank(ids) > 1)
      at.push_back("j");
    std::string id = valueAt(ids, at);
    open("if (" + id + " >= 0 && " + id + " < " + rows + ")");
    std::string weight = weights >= 0 ? valueAt(weights, at) : "1.0f";
    std::string row = temp("i64", id + " * " + dim);
    std::string element = variable("float", "lmc_load(" + pointer(x) + ", " + row + " + " +
                                                index[1] + ")");
    if (op.ints[1]) { // max_norm: rows longer than it are scaled down to it
      std::string norm = variable("float", "0.0f");
      open("for (i64 d = 0; d < " + dim + "; ++d)");
      line("const float e = lmc_load(" + pointer(x) + ", " + row + " + d);");
      line(norm + " += e * e;");
      close();
      line(norm + " = sqrtf(" + norm + ");");
      line("if (" + norm + " > " + literal(op.reals[0]) + ") " + element + " *= " +
           literal(op.reals[0]) + " / " + norm + ";");
    }
    line(acc + " += " + weight + " * " + element + ";");
    line(weightSum + " += " + weight + ";");
    line(squares + " += " + weight + " * " + weight + ";");
    close();
    close();
    if (op.ints[0] == 1)
      line("if (" + weightSum + " != 0.0f) " + acc + " *= 1.0f / " + weightSum + ";");
    if (op.ints[0] == 2)
      line("if (" + squares + " != 0.0f) " + acc + " *= 1.0f / sqrtf(" + squares + ");");
    return temp("float", rounded(type(v).dtype, acc));
  }
  default: { // FcIndicator (ids, weights)
    int weights = op.operands.size() > 1 ? op.operands[1] : -1;
    std::string width = rank(x) > 1 ? extent(x, 1) : "1LL";
    std::string acc = variable("float", "0.0f");
    open("for (i64 j = 0; j < " + width + "; ++j)");
    Index at{index[0]};
    if (rank(x) > 1)
      at.push_back("j");
    std::string id = valueAt(x, at);
    open("if (" + id + " == " + index[1] + ")");
    line(acc + " += " + (weights >= 0 ? valueAt(weights, at) : "1.0f") + ";");
    close();
    close();
    return temp("float", rounded(type(v).dtype, acc));
  }
  }
}

bool FusedEmitter::isRowStage(int v) const {
  if (producers[size_t(v)].instruction < 0)
    return false;
  const rt::Instruction &op = producerOf(v);
  if (op.opcode == Opcode::LayerNorm || op.opcode == Opcode::RmsNorm)
    return true;
  return op.opcode == Opcode::Softmax && size_t(op.ints[0]) + 1 == rank(v) &&
         type(v).shape.back() >= 0;
}

std::string FusedEmitter::signature(const std::string &entry, int bounds, rt::Launch &launch) {
  std::string params;
  auto add = [&](const std::string &param, rt::LaunchArg arg) {
    params += (params.empty() ? "" : ",\n    ") + param;
    launch.args.push_back(arg);
  };
  for (int v : pointers)
    add(std::string(v == launch.value ? "" : "const ") +
            storageType(type(v).dtype) + " *__restrict__ p" + std::to_string(v),
        {rt::LaunchArgKind::Pointer, v, -1});
  for (auto [v, axis] : extents)
    add("const i64 e" + std::to_string(v) + "_" + std::to_string(axis),
        {rt::LaunchArgKind::Extent, v, int(axis)});
  for (int t : tables) {
    add("const void *__restrict__ table" + std::to_string(t), {rt::LaunchArgKind::Table, t, -1});
    add("const i64 table" + std::to_string(t) + "_size", {rt::LaunchArgKind::TableSize, t, -1});
  }
  return "extern \"C\" __global__ void __launch_bounds__(" + std::to_string(bounds) + ") " +
         entry + "(\n    " + params + ")";
}

bool FusedEmitter::emitElementStage(int v, const std::string &entry) {
  body.clear();
  indent = 1;
  temps = 0;
  pointers.clear();
  tables.clear();
  extents.clear();
  scopes.assign(1, {});
  line("const i64 total = " + numElements(v) + ";");
  open("for (i64 linear = (i64)blockIdx.x * blockDim.x + threadIdx.x; linear < total;\n"
       "       linear += (i64)gridDim.x * blockDim.x)");
  Index index(rank(v));
  std::string rest = "linear";
  for (size_t d = rank(v); d-- > 0;) {
    index[d] = "i" + std::to_string(d);
    if (d == 0) {
      line("const i64 i0 = " + rest + ";");
      break;
    }
    line("const i64 " + index[d] + " = " + rest + " % " + extent(v, d) + ";");
    line("const i64 r" + std::to_string(d) + " = " + rest + " / " + extent(v, d) + ";");
    rest = "r" + std::to_string(d);
  }
  computing = v;
  std::string value = compute(v, index);
  line("lmc_store(" + pointer(v) + ", linear, " + value + ");");
  close();
  rt::Launch launch{entry, rt::LaunchPattern::Elements, v, kThreads, kThreads, 0, {}};
  std::string head = signature(entry, kThreads, launch);
  computing = -1;
  declarations += "// %" + std::to_string(v) + " = " + rt::opcodeName(producerOf(v).opcode) +
                  ", one thread per element\n" + head + " {\n" + body + "}\n\n";
  stages.push_back(std::move(launch));
  return failure.empty();
}

bool FusedEmitter::emitRowStage(int v, const std::string &entry) {
  const rt::Instruction &op = producerOf(v);
  int x = op.operands[0];
  int64_t width = type(v).shape.back();
  if (width <= 0)
    return failOp(op, "needs a static last dimension");
  bool cached = width <= kMaxCachedWidth;
  int64_t perLane = (width + 31) / 32;
  body.clear();
  indent = 1;
  temps = 0;
  pointers.clear();
  tables.clear();
  extents.clear();
  scopes.assign(1, {});
  line("const i64 rows = " + numElements(v, 0) + " / " + literal(width) + ";");
  line("const int lane = threadIdx.x & 31;");
  open("for (i64 row = (i64)blockIdx.x * " + std::to_string(kRowsPerBlock) +
       " + (threadIdx.x >> 5); row < rows;\n       row += (i64)gridDim.x * " +
       std::to_string(kRowsPerBlock) + ")");
  Index index(rank(v));
  std::string rest = "row";
  for (size_t d = rank(v) - 1; d-- > 0;) {
    index[d] = "i" + std::to_string(d);
    if (d == 0) {
      line("const i64 i0 = " + rest + ";");
      break;
    }
    line("const i64 " + index[d] + " = " + rest + " % " + extent(v, d) + ";");
    line("const i64 r" + std::to_string(d) + " = " + rest + " / " + extent(v, d) + ";");
    rest = "r" + std::to_string(d);
  }
  index.back() = "c";
  std::string loop = "for (int j = 0; j < " + std::to_string(perLane) + "; ++j)";
  auto columnLoop = [&](const std::function<void()> &inside) {
    line("#pragma unroll");
    open(loop);
    line("const i64 c = lane + 32 * j;");
    open("if (c < " + literal(width) + ")");
    inside();
    close();
    close();
  };
  // Reads x (from the cache when the row is held in registers).
  auto element = [&]() { return cached ? std::string("x[j]") : valueAt(x, index); };
  if (cached) {
    line("float x[" + std::to_string(perLane) + "];");
    line("#pragma unroll");
    open(loop);
    line("const i64 c = lane + 32 * j;");
    line("x[j] = 0.0f;");
    open("if (c < " + literal(width) + ")");
    line("x[j] = " + valueAt(x, index) + ";");
    close();
    close();
  }
  std::string mean = "0.0f";
  if (op.opcode == Opcode::Softmax) {
    std::string top = variable("float", "-__int_as_float(0x7f800000)");
    columnLoop([&] { line(top + " = lmc_max(" + top + ", " + element() + ");"); });
    line(top + " = lmc_warp_max(" + top + ");");
    std::string sum = variable("float", "0.0f");
    columnLoop([&] { line(sum + " += expf(" + element() + " - " + top + ");"); });
    line(sum + " = lmc_warp_sum(" + sum + ");");
    columnLoop([&] {
      line("lmc_store(" + pointer(v) + ", row * " + literal(width) + " + c, " +
           rounded(type(v).dtype, "expf(" + element() + " - " + top + ") / " + sum) + ");");
    });
  } else {
    bool centered = op.opcode == Opcode::LayerNorm;
    if (centered) {
      std::string sum = variable("float", "0.0f");
      columnLoop([&] { line(sum + " += " + element() + ";"); });
      mean = temp("float", "lmc_warp_sum(" + sum + ") / " + literal(double(width)));
    }
    std::string squares = variable("float", "0.0f");
    columnLoop([&] {
      line("const float centered = " + element() + " - " + mean + ";");
      line(squares + " += centered * centered;");
    });
    std::string scale = temp("float", "1.0f / sqrtf(lmc_warp_sum(" + squares + ") / " +
                                          literal(double(width)) + " + " +
                                          literal(op.reals[0]) + ")");
    columnLoop([&] {
      std::string gamma = valueAt(op.operands[1], {"c"});
      std::string shift = centered ? valueAt(op.operands[2], {"c"}) : "0.0f";
      line("lmc_store(" + pointer(v) + ", row * " + literal(width) + " + c, (" + element() +
           " - " + mean + ") * " + scale + " * " + gamma + " + " + shift + ");");
    });
  }
  close();
  rt::Launch launch{entry, rt::LaunchPattern::Rows, v, kThreads, kRowsPerBlock, 0, {}};
  std::string head = signature(entry, kThreads, launch);
  declarations += "// %" + std::to_string(v) + " = " + rt::opcodeName(op.opcode) +
                  ", one warp per row of " + std::to_string(width) + "\n" + head + " {\n" + body +
                  "}\n\n";
  stages.push_back(std::move(launch));
  return failure.empty();
}

bool FusedEmitter::emit(EmittedKernel &out, std::string &error) {
  // Types, producers and use counts of every kernel-local value.
  for (const rt::TensorType &argument : kernel.arguments) {
    types.push_back(&argument);
    producers.push_back({});
  }
  for (size_t i = 0; i < kernel.body.size(); ++i)
    for (size_t r = 0; r < kernel.body[i].results.size(); ++r) {
      types.push_back(&kernel.body[i].results[r]);
      producers.push_back({int(i), int(r)});
    }
  size_t count = types.size();
  uses.assign(count, 0);
  inMemory.assign(count, false);
  written.assign(count, false);
  for (const rt::Instruction &op : kernel.body)
    for (int operand : op.operands)
      if (operand >= 0)
        ++uses[size_t(operand)];
  for (size_t v = 0; v < kernel.arguments.size(); ++v)
    inMemory[v] = true;
  for (int v : kernel.yields) {
    if (size_t(v) < kernel.arguments.size()) {
      error = "kernel '" + kernel.name + "' yields its argument #" + std::to_string(v);
      return false;
    }
    inMemory[size_t(v)] = written[size_t(v)] = true;
  }
  for (size_t v = kernel.arguments.size(); v < count; ++v) {
    const rt::TensorType &t = *types[v];
    if (t.dtype == DType::F64) {
      error = "kernel '" + kernel.name + "': f64 values have no CUDA form";
      return false;
    }
    const rt::Instruction &op = kernel.body[size_t(producers[v].instruction)];
    bool loops = op.opcode == Opcode::Matmul || op.opcode == Opcode::ReduceSum ||
                 op.opcode == Opcode::ReduceMax || op.opcode == Opcode::Softmax ||
                 op.opcode == Opcode::SegmentReduce || op.opcode == Opcode::FcEmbeddingBag ||
                 op.opcode == Opcode::FcIndicator || op.opcode == Opcode::LayerNorm ||
                 op.opcode == Opcode::RmsNorm ||
                 (op.opcode == Opcode::Unpad && producers[v].result == 1);
    if (op.opcode == Opcode::Attention) {
      error = "kernel '" + kernel.name + "': lmc.attention belongs in an attention kernel";
      return false;
    }
    if (loops || uses[v] >= 2)
      inMemory[v] = written[v] = true;
  }
  // One entry point per value written to memory, in program order -- except
  // that an unpad's cu_seqlens (its second result) is written before the
  // packed tokens (its first), which are found through it.
  std::vector<int> order;
  int first = int(kernel.arguments.size());
  for (const rt::Instruction &op : kernel.body) {
    int results = int(op.results.size());
    if (op.opcode == Opcode::Unpad)
      order.insert(order.end(), {first + 1, first});
    else
      for (int r = 0; r < results; ++r)
        order.push_back(first + r);
    first += results;
  }
  int stage = 0;
  for (int v : order) {
    if (!written[size_t(v)] || !failure.empty())
      continue;
    std::string entry = kernel.name + "_s" + std::to_string(stage++);
    if (isRowStage(v) ? !emitRowStage(v, entry) : !emitElementStage(v, entry))
      break;
  }
  if (!failure.empty()) {
    error = "kernel '" + kernel.name + "': " + failure;
    return false;
  }
  std::string ops;
  for (const rt::Instruction &op : kernel.body)
    ops += (ops.empty() ? "" : ", ") + std::string(rt::opcodeName(op.opcode));
  out.source = "// lmc fused kernel '" + kernel.name + "': " + ops + "\n// Generated by lmc; " +
               std::to_string(stages.size()) + " entry points, run in order.\n\n" + kPrelude +
               "\n" + declarations;
  out.launches = std::move(stages);
  return true;
}

} // namespace

bool emitFusedKernel(const rt::Plan &plan, const rt::Kernel &kernel, EmittedKernel &out,
                     std::string &error) {
  return FusedEmitter(plan, kernel).emit(out, error);
}

} // namespace mlir::lmc::cuda
