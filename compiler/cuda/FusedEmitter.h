//===- FusedEmitter.h - the fused-kernel emitter, inside ----------*- C++ -*-===//
//
// Shared by FusedEmitter.cpp (values, stages, entry points) and the files
// that write each op family's gather expression (FusedOpExpressions.cpp,
// FusedFeatureColumns.cpp). Not a public header: KernelEmitter.h is.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_FUSEDEMITTER_H
#define LMC_COMPILER_CUDA_FUSEDEMITTER_H

#include "compiler/cuda/KernelEmitter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace mlir::lmc::cuda::fused {

namespace rt = ::lmc::rt;
using rt::DType;
using rt::Opcode;

/// Threads per block of element entry points; warps per block of row ones.
constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;
/// Results one element entry point writes at most (each adds its
/// expression's registers).
constexpr size_t kMaxGroup = 8;
/// Rows up to this width are held in registers (32 lanes x 32 floats).
constexpr int64_t kMaxCachedWidth = 1024;
/// Constants above this many elements are refused (they belong in a
/// parameter, not in the source).
constexpr size_t kMaxConstantElements = 1 << 16;

/// A C expression per dimension: the index of an element.
using Index = std::vector<std::string>;

inline std::string join(const Index &index, const char *separator) {
  std::string out;
  for (size_t i = 0; i < index.size(); ++i)
    out += (i ? separator : "") + index[i];
  return out;
}

inline const char *computeType(DType dtype) {
  switch (dtype) {
  case DType::F32: case DType::F16: case DType::BF16: return "float";
  case DType::I64: case DType::I32: return "i64";
  default: return "bool";
  }
}

inline const char *storageType(DType dtype) {
  switch (dtype) {
  case DType::F32: return "float";
  case DType::F16: return "__half";
  case DType::BF16: return "__nv_bfloat16";
  case DType::I64: return "i64";
  case DType::I32: return "int";
  default: return "unsigned char";
  }
}

inline bool isFloat(DType dtype) { return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16; }

inline std::string rounded(DType dtype, const std::string &expr) {
  if (dtype == DType::F16) return "lmc_round_f16(" + expr + ")";
  if (dtype == DType::BF16) return "lmc_round_bf16(" + expr + ")";
  return expr;
}

inline std::string literal(double value) {
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

inline std::string literal(int64_t value) {
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

  /// Fresh state for the next entry point, which writes `values`.
  void beginEntry(std::set<int> values);
  /// Emits the indices of the first `dims` dimensions of `v` from the flat
  /// index `flat` (the last dimension varying fastest), as variables whose
  /// names start with `prefix`.
  Index delinearize(int v, size_t dims, const std::string &flat, const std::string &prefix = "");
  bool isRowStage(int v) const;
  /// Whether computing an element of `v` loops (a reduction, a matmul, a
  /// normalization, ...): such values are always computed once, in memory.
  bool costsALoop(int v) const;
  /// The element count of `v`, or -1 when a dimension is dynamic.
  int64_t staticElements(int v) const;
  /// Takes out of memory the values that are there only because two
  /// expressions read them, when every expression that reads them is an
  /// element entry point's of the same static element count: those compute
  /// the value where they read it (once per entry point and index).
  void computeSharedValuesWhereRead(const std::vector<int> &order);
  /// Whether `v` may be written by the element entry point that writes
  /// `group` (kernel results of one static element count, see emit()).
  bool joinsElementGroup(const std::vector<int> &group, int v) const;
  bool emitElementStage(const std::vector<int> &group, const std::string &entry);
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
  std::set<int> storing; // the values the entry point writes
  std::vector<std::map<std::string, std::string>> scopes;
  std::set<int> pointers, tables;
  std::set<std::pair<int, size_t>> extents;
  std::vector<rt::Launch> stages;
};

} // namespace mlir::lmc::cuda::fused

#endif // LMC_COMPILER_CUDA_FUSEDEMITTER_H
