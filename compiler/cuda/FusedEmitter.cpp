//===- FusedEmitter.cpp - CUDA C for fused kernels, in gather form --------===//
//
// Every value of a fused kernel is either in memory (a kernel argument, a
// yielded result, scratch) or computed inline where it is read: an entry
// point computes in-memory values, one thread per element, by asking each
// operand for its element at an index derived from the output index
// (broadcast, transpose, reshape, concat, slice, gather, pad and unpad are
// index arithmetic). A value goes to memory when it is yielded, costs a
// loop (reductions, segment sums, embedding bags, matmuls), or is read
// twice, not only by element entry points of its element count (those
// compute it in registers); consecutive results of one element count share
// an entry point. layer_norm, rms_norm and softmax over the last axis get a
// warp per row with the row held in registers.
//
//===----------------------------------------------------------------------===//

#include "compiler/cuda/FusedEmitter.h"

#include "compiler/cuda/CudaPrelude.h"

#include "artifact/OpTable.h"

#include <functional>

namespace mlir::lmc::cuda {
namespace fused {

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
  // A value the entry point writes itself is computed, not read back: its
  // element at another index may not be written yet.
  if (inMemory[size_t(v)] && v != computing && !storing.count(v))
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
  // The group that computes it inline (its CudaForm in Ops.def).
  switch (::lmc::ops::info(op.opcode).cuda) {
  case ::lmc::ops::CudaForm::GatherElementwise:
    result = computeElementwise(op, v, index);
    break;
  case ::lmc::ops::CudaForm::GatherDataMovement:
    result = computeDataMovement(op, v, index);
    break;
  case ::lmc::ops::CudaForm::GatherSequence:
    result = computeSequence(op, v, index);
    break;
  case ::lmc::ops::CudaForm::GatherReduction:
    result = computeReduction(op, v, index);
    break;
  case ::lmc::ops::CudaForm::GatherMatmul:
    result = computeMatmul(op, v, index);
    break;
  case ::lmc::ops::CudaForm::GatherFeatureColumn:
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

bool FusedEmitter::isRowStage(int v) const {
  if (producers[size_t(v)].instruction < 0)
    return false;
  const rt::Instruction &op = producerOf(v);
  if (::lmc::ops::info(op.opcode).cuda == ::lmc::ops::CudaForm::RowStage)
    return true;
  return op.opcode == Opcode::Softmax && size_t(op.ints[slot::softmax::axis]) + 1 == rank(v) &&
         type(v).shape.back() >= 0;
}

std::string FusedEmitter::signature(const std::string &entry, int bounds, rt::Launch &launch) {
  std::string params;
  auto add = [&](const std::string &param, rt::LaunchArg arg) {
    params += (params.empty() ? "" : ",\n    ") + param;
    launch.args.push_back(arg);
  };
  for (int v : pointers)
    add(std::string(storing.count(v) ? "" : "const ") +
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

void FusedEmitter::beginEntry(std::set<int> values) {
  storing = std::move(values);
  body.clear();
  indent = 1;
  temps = 0;
  pointers.clear();
  tables.clear();
  extents.clear();
  scopes.assign(1, {});
}

Index FusedEmitter::delinearize(int v, size_t dims, const std::string &flat,
                                const std::string &prefix) {
  Index index(dims);
  std::string rest = flat;
  for (size_t d = dims; d-- > 0;) {
    index[d] = prefix + "i" + std::to_string(d);
    if (d == 0) {
      line("const i64 " + index[d] + " = " + rest + ";");
      break;
    }
    line("const i64 " + index[d] + " = " + rest + " % " + extent(v, d) + ";");
    line("const i64 " + prefix + "r" + std::to_string(d) + " = " + rest + " / " + extent(v, d) +
         ";");
    rest = prefix + "r" + std::to_string(d);
  }
  return index;
}

bool FusedEmitter::costsALoop(int v) const {
  const rt::Instruction &op = producerOf(v);
  // An unpad's cu_seqlens is a prefix sum; its packed rows are a gather.
  return ::lmc::ops::info(op.opcode).loops ||
         (op.opcode == Opcode::Unpad && producers[size_t(v)].result == 1);
}

int64_t FusedEmitter::staticElements(int v) const {
  int64_t count = 1;
  for (int64_t size : type(v).shape)
    count = size < 0 ? -1 : count * size;
  return count;
}

void FusedEmitter::computeSharedValuesWhereRead(const std::vector<int> &order) {
  // The in-memory values each written value's expression reads, and back.
  size_t count = types.size();
  std::vector<std::set<int>> reads(count), readers(count);
  for (int w : order) {
    if (!written[size_t(w)])
      continue;
    std::set<int> seen;
    std::function<void(int)> walk = [&](int v) {
      for (int operand : producerOf(v).operands)
        if (operand >= 0 && seen.insert(operand).second) {
          if (inMemory[size_t(operand)])
            reads[size_t(w)].insert(operand);
          else
            walk(operand);
        }
    };
    walk(w);
    for (int u : reads[size_t(w)])
      readers[size_t(u)].insert(w);
  }
  auto yielded = [&](int v) {
    return std::find(kernel.yields.begin(), kernel.yields.end(), v) != kernel.yields.end();
  };
  // Readers before what they read, so a value's readers are final when it
  // is considered.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    int v = *it;
    if (!written[size_t(v)] || yielded(v) || costsALoop(v) || isRowStage(v) ||
        staticElements(v) < 0 || readers[size_t(v)].empty())
      continue;
    bool everyReaderAnElement = std::all_of(
        readers[size_t(v)].begin(), readers[size_t(v)].end(), [&](int r) {
          return !costsALoop(r) && !isRowStage(r) && staticElements(r) == staticElements(v);
        });
    if (!everyReaderAnElement)
      continue;
    inMemory[size_t(v)] = written[size_t(v)] = false;
    for (int u : reads[size_t(v)]) {
      readers[size_t(u)].erase(v);
      readers[size_t(u)].insert(readers[size_t(v)].begin(), readers[size_t(v)].end());
    }
    for (int r : readers[size_t(v)]) {
      reads[size_t(r)].erase(v);
      reads[size_t(r)].insert(reads[size_t(v)].begin(), reads[size_t(v)].end());
    }
  }
}

bool FusedEmitter::joinsElementGroup(const std::vector<int> &group, int v) const {
  auto yielded = [&](int value) {
    return std::find(kernel.yields.begin(), kernel.yields.end(), value) != kernel.yields.end();
  };
  return group.size() < kMaxGroup && yielded(v) && yielded(group.front()) && !isRowStage(v) &&
         !isRowStage(group.front()) && staticElements(v) >= 0 &&
         staticElements(v) == staticElements(group.front());
}

bool FusedEmitter::emitElementStage(const std::vector<int> &group, const std::string &entry) {
  beginEntry({group.begin(), group.end()});
  int first = group.front();
  line("const i64 total = " + numElements(first) + ";");
  open("for (i64 linear = (i64)blockIdx.x * blockDim.x + threadIdx.x; linear < total;\n"
       "       linear += (i64)gridDim.x * blockDim.x)");
  // Each shape of the group delinearizes `linear` once (a weight and its
  // flat moments, say: their elements correspond in row-major order).
  std::map<std::vector<int64_t>, Index> indices;
  std::string comment;
  for (int v : group) {
    auto [at, fresh] = indices.try_emplace(type(v).shape);
    if (fresh)
      at->second = delinearize(
          v, rank(v), "linear",
          indices.size() == 1 ? "" : "g" + std::to_string(indices.size()) + "_");
    const Index &index = at->second;
    computing = v;
    std::string value = compute(v, index);
    line("lmc_store(" + pointer(v) + ", linear, " + value + ");");
    // Later values of the group read this element from here.
    scopes.back()[std::to_string(v) + "@" + join(index, ",")] = value;
    comment += (comment.empty() ? "// %" : ", %") + std::to_string(v) + " = " +
               rt::opcodeName(producerOf(v).opcode);
  }
  close();
  rt::Launch launch{entry, rt::LaunchPattern::Elements, first, kThreads, kThreads, 0, {}};
  std::string head = signature(entry, kThreads, launch);
  computing = -1;
  declarations += comment + ", one thread per element\n" + head + " {\n" + body + "}\n\n";
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
  beginEntry({v});
  line("const i64 rows = " + numElements(v, 0) + " / " + literal(width) + ";");
  line("const int lane = threadIdx.x & 31;");
  open("for (i64 row = (i64)blockIdx.x * " + std::to_string(kRowsPerBlock) +
       " + (threadIdx.x >> 5); row < rows;\n       row += (i64)gridDim.x * " +
       std::to_string(kRowsPerBlock) + ")");
  Index index = delinearize(v, rank(v) - 1, "row");
  index.push_back("c");
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
                                          literal(op.reals[slot::norm::epsilon]) + ")");
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
    if (producerOf(int(v)).opcode == Opcode::Attention) {
      error = "kernel '" + kernel.name + "': lmc.attention belongs in an attention kernel";
      return false;
    }
    if (costsALoop(int(v)) || uses[v] >= 2)
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
  computeSharedValuesWhereRead(order);
  // Consecutive results of one static shape share an entry point (an
  // optimizer's update of a weight and its two moments, say): fewer
  // launches, and what one computes the next reads from registers.
  std::vector<std::vector<int>> groups;
  for (int v : order)
    if (written[size_t(v)]) {
      if (!groups.empty() && joinsElementGroup(groups.back(), v))
        groups.back().push_back(v);
      else
        groups.push_back({v});
    }
  for (const std::vector<int> &group : groups) {
    std::string entry = kernel.name + "_s" + std::to_string(stages.size());
    if (isRowStage(group.front()) ? !emitRowStage(group.front(), entry)
                                  : !emitElementStage(group, entry))
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

} // namespace fused

bool emitFusedKernel(const ::lmc::rt::Plan &plan, const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                     std::string &error) {
  return fused::FusedEmitter(plan, kernel).emit(out, error);
}

} // namespace mlir::lmc::cuda
