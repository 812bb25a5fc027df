//===- FusedOpExpressions.cpp - gather expressions of the core ops --------===//
//
// For one element of an op's result (its index as C expressions), the code
// that computes it from its operands' elements: elementwise ops with NumPy
// broadcasting, constants, data movement and gathers, sequence layouts,
// reductions and small matmuls.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/FusedEmitter.h"

#include "cpu/HalfFloat.h"

#include <cstring>

namespace mlir::lmc::cuda::fused {

std::string FusedEmitter::computeElementwise(const rt::Instruction &op, int v,
                                             const Index &index) {
  DType dtype = type(v).dtype;
  Index mapped;
  // broadcast_like reads only its second operand's shape, never its elements.
  size_t read = op.opcode == Opcode::BroadcastLike ? 1 : op.operands.size();
  std::vector<std::string> in(read);
  // A select computes its values before its condition, so the condition's
  // inputs are not live across the values' work (a 64-bit modulo is a call
  // that would make them spill).
  static const size_t kSelectOrder[] = {1, 2, 0};
  for (size_t k = 0; k < read; ++k) {
    size_t i = op.opcode == Opcode::Select ? kSelectOrder[k] : k;
    in[i] = broadcastOperand(op.operands[i], v, index, mapped);
  }
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
  case Opcode::Log: return unary("logf");
  case Opcode::Sqrt: return unary("lmc_sqrt");
  case Opcode::Silu:
    return temp("float", rounded(dtype, "(" + in[0] + ") / (1.0f + expf(-(" + in[0] + ")))"));
  case Opcode::BroadcastLike: return in[0];
  case Opcode::Gelu:
    return temp("float", rounded(dtype, std::string(op.ints[slot::gelu::tanh] ? "lmc_gelu_tanh(" : "lmc_gelu_erf(") +
                                            in[0] + ")"));
  case Opcode::Compare: {
    static const char *symbols[] = {"==", "!=", "<", "<=", ">", ">="};
    int64_t predicate = op.ints[slot::compare::predicate];
    if (predicate < 0 || predicate > 5)
      return failOp(op, "has an unknown predicate"), "false";
    bool real = isFloat(type(op.operands[0]).dtype) || isFloat(type(op.operands[1]).dtype);
    std::string a = real ? "(double)" + in[0] : in[0], b = real ? "(double)" + in[1] : in[1];
    return temp("bool", a + " " + symbols[predicate] + " " + b);
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
  int index = int(op.ints[slot::constant::index]);
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
    size_t axis = size_t(op.ints[slot::slice::axis]);
    mapped[axis] = "(" + index[axis] + " + " + literal(op.ints[slot::slice::start]) + ")";
    return valueAt(x, mapped);
  }
  case Opcode::Concat: {
    size_t axis = size_t(op.ints[slot::concat::axis]);
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
    int64_t kind = op.ints[slot::segmentReduce::reduction];
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
  // reduce_* and softmax keep their axis in the same slot.
  static_assert(slot::reduce::axis == slot::softmax::axis);
  size_t axis = size_t(op.ints[slot::reduce::axis]);
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
  bool keepDims = op.ints[slot::reduce::keepDims] != 0;
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
  bool transposeA = op.ints[slot::matmul::transposeLhs] != 0,
       transposeB = op.ints[slot::matmul::transposeRhs] != 0;
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

} // namespace mlir::lmc::cuda::fused
