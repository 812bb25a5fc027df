// CpuBackend.cpp - executing a plan's steps, and the kernel interpreter.

#include "cpu/CpuBackend.h"

#include "cpu/KernelContext.h"

#include "artifact/OpTable.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace lmc::cpu {
namespace {

using rt::KernelKind;
using rt::Opcode;

/// The op family that runs the instruction (its CpuGroup in Ops.def).
bool dispatch(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  switch (ops::info(ctx.instruction->opcode).cpu) {
  case ops::CpuGroup::Elementwise: return runElementwise(ctx, in, out);
  case ops::CpuGroup::Composite: return runComposite(ctx, in, out);
  case ops::CpuGroup::Reduction: return runReduction(ctx, in, out);
  case ops::CpuGroup::DataMovement: return runDataMovement(ctx, in, out);
  case ops::CpuGroup::Sequence: return runSequence(ctx, in, out);
  case ops::CpuGroup::FeatureColumn: return runFeatureColumn(ctx, in, out);
  case ops::CpuGroup::Collective: return runCollective(ctx, in, out);
  case ops::CpuGroup::Matmul: return runMatmul(ctx, in, out);
  case ops::CpuGroup::Attention: return runAttention(ctx, in, out);
  case ops::CpuGroup::AttentionGrad: return runAttentionGrad(ctx, in, out);
  case ops::CpuGroup::Optimizer: return runAdamwRows(ctx, in, out);
  }
  return ctx.fail("has no CPU kernel");
}

bool overlaps(const Tensor &a, const Tensor &b) {
  auto *a0 = static_cast<const uint8_t *>(a.data), *b0 = static_cast<const uint8_t *>(b.data);
  return a0 < b0 + b.numBytes() && b0 < a0 + a.numBytes();
}

/// The shape rule's view of an operand: its shape, and its elements when
/// the rule reads them (an unpad's lengths, a pad's cu_seqlens).
ops::ValueShape shapeOf(const Tensor &tensor, bool withValues) {
  ops::ValueShape view{tensor.shape, {}, false};
  if (withValues && (tensor.dtype == DType::I32 || tensor.dtype == DType::I64)) {
    for (int64_t i = 0; i < tensor.numElements(); ++i)
      view.data.push_back(integerAt(tensor, i));
    view.known = true;
  }
  return view;
}

/// Fills ctx.resultShapes for ctx.instruction from its operands' shapes.
bool inferResults(KernelContext &ctx, const std::vector<ops::ValueShape> &shapes) {
  std::vector<const ops::ValueShape *> operands;
  for (size_t i = 0; i < shapes.size(); ++i)
    operands.push_back(ctx.instruction->operands[i] < 0 ? nullptr : &shapes[i]);
  std::string why;
  return ops::inferShapes(*ctx.instruction, operands, ctx.operandTypes, ctx.resultShapes, why) ||
         ctx.fail(why);
}

/// Checks a tensor handed to the plan against its declared type.
bool matchesType(const Tensor &tensor, const rt::TensorType &type) {
  if (tensor.dtype != type.dtype || tensor.shape.size() != type.shape.size())
    return false;
  for (size_t d = 0; d < type.shape.size(); ++d)
    if (tensor.shape[d] < 0 || (type.shape[d] >= 0 && tensor.shape[d] != type.shape[d]))
      return false;
  return true;
}

} // namespace

std::string blasKernels() {
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ')
    config.pop_back();
  return config + ", " + openblas_get_corename() + " kernels";
}

CpuBackend::CpuBackend(const rt::Plan &plan) : plan(plan), widened(plan.parameters.size()) {
  for (const rt::Output &output : plan.outputs)
    servesOnly &= output.updates < 0;
  for (const rt::Kernel &kernel : plan.kernels)
    for (const rt::Instruction &instruction : kernel.body)
      if (instruction.opcode == Opcode::FcVocabLookup)
        vocabularies.emplace(
            &instruction,
            VocabularyIndex(plan.featureTables[size_t(instruction.table)].fingerprints,
                            instruction.ints[ops::slot::fcVocabLookup::oovBuckets],
                            instruction.ints[ops::slot::fcVocabLookup::hasDefault]
                                ? std::optional<int64_t>(
                                      instruction.ints[ops::slot::fcVocabLookup::defaultValue])
                                : std::nullopt));
  for (const rt::Value &value : plan.values)
    plannedBytes.push_back(rt::plannedBytes(value, plan.budget));
}

void CpuBackend::parametersChanged() {
  std::lock_guard<std::mutex> lock(widenedMutex);
  for (Widened &copy : widened)
    copy = Widened();
}

const float *CpuBackend::widenedParameter(size_t index, const Tensor &parameter) const {
  std::lock_guard<std::mutex> lock(widenedMutex);
  Widened &copy = widened[index];
  if (copy.data != parameter.data) {
    copy.values.reset(new float[size_t(parameter.numElements())]);
    widen(parameter, copy.values.get());
    copy.data = parameter.data;
  }
  return copy.values.get();
}

bool CpuBackend::run(const std::vector<Tensor> &inputs, const std::vector<Tensor> &parameters,
                     std::vector<Tensor> &outputs, rt::Status &error) const {
  if (inputs.size() != plan.inputs.size() || parameters.size() != plan.parameters.size()) {
    return error.fail("the plan takes " + std::to_string(plan.inputs.size()) + " inputs and " +
                      std::to_string(plan.parameters.size()) + " parameters");
  }
  // This run's loops and GEMMs on one team of `threads` (the calling
  // thread's setting, restored when the run returns).
  TeamSize team(threads);
  std::vector<Tensor> values(plan.values.size());
  for (size_t v = 0; v < plan.values.size(); ++v) {
    const rt::Value &value = plan.values[v];
    if (value.kind == rt::ValueKind::Input) {
      values[v] = inputs[size_t(value.index)];
      if (!matchesType(values[v], value.type)) {
        return error.fail("input '" + plan.inputs[size_t(value.index)].feature + "' is " +
                          describe(values[v]) + "; the model takes " +
                          formatShape(value.type.shape) + " " + rt::dtypeName(value.type.dtype));
      }
    } else if (value.kind == rt::ValueKind::Parameter) {
      values[v] = parameters[size_t(value.index)];
      if (!matchesType(values[v], value.type)) {
        return error.fail("parameter '" + plan.parameters[size_t(value.index)].name + "' is " +
                          describe(values[v]) + "; the model declares " +
                          formatShape(value.type.shape) + " " + rt::dtypeName(value.type.dtype));
      }
      if (servesOnly && (value.type.dtype == DType::F16 || value.type.dtype == DType::BF16))
        values[v].widened = widenedParameter(size_t(value.index), values[v]);
    } else if (value.kind == rt::ValueKind::Constant) {
      const rt::Constant &constant = plan.constants[size_t(value.index)];
      values[v].dtype = constant.type.dtype;
      values[v].shape = constant.type.shape;
      values[v].data = const_cast<uint8_t *>(constant.data.data());
    }
  }
  if (plan.arenaBytes > memoryLimit) {
    return error.fail(LMC_STATUS_OUT_OF_MEMORY,
                      "the plan's arena of " + std::to_string(plan.arenaBytes) +
                          " bytes is more than the memory limit of " + std::to_string(memoryLimit));
  }
  // An arena of a finished run, or a new one. A value larger than its
  // planned slot (a batch beyond the budget) gets its own buffer instead, so
  // the arena never overflows.
  std::unique_ptr<uint8_t[]> arena;
  {
    std::lock_guard<std::mutex> lock(arenaMutex);
    if (!idleArenas.empty()) {
      arena = std::move(idleArenas.back());
      idleArenas.pop_back();
    }
  }
  if (!arena)
    arena.reset(new (std::nothrow) uint8_t[size_t(std::max<int64_t>(plan.arenaBytes, 1))]);
  bool ok = true;
  // Gradient collectives in flight, by the value they write: a step that
  // reads one waits for it; the rest of the backward runs meanwhile.
  std::map<int, rt::Communicator::Pending> inFlight;
  auto land = [&](int value) {
    rt::Status landed = inFlight.at(value).get();
    inFlight.erase(value);
    if (!landed.ok() && ok) {
      error = landed;
      ok = false;
    }
  };
  for (const rt::Step &step : plan.steps) {
    for (int operand : step.operands)
      if (inFlight.count(operand))
        land(operand);
    if (!ok)
      break;
    if (startCollective(step, values, arena.get(), inFlight))
      continue;
    if (!(ok = runStep(step, values, arena.get(), error)))
      break;
  }
  // Nothing may still write into the arena once the run ends.
  while (!inFlight.empty())
    land(inFlight.begin()->first);
  outputs.clear();
  for (size_t o = 0; ok && o < plan.outputs.size(); ++o) {
    const Tensor &value = values[size_t(plan.outputs[o].value)];
    if (int p = plan.outputs[o].updates; p >= 0) {
      // A training step's new parameter: the same bytes (checked on load),
      // unless the step computed it in place.
      if (!plan.outputs[o].inPlace)
        std::memcpy(parameters[size_t(p)].data, value.data, value.numBytes());
      outputs.emplace_back();
      continue;
    }
    Tensor copy = Tensor::uninitialized(value.dtype, value.shape);
    if (!copy.data) {
      ok = error.fail(LMC_STATUS_OUT_OF_MEMORY,
                      "out of memory copying output '" + plan.outputs[o].name + "'");
      break;
    }
    std::memcpy(copy.data, value.data, value.numBytes());
    outputs.push_back(std::move(copy));
  }
  if (arena) {
    std::lock_guard<std::mutex> lock(arenaMutex);
    idleArenas.push_back(std::move(arena));
  }
  return ok;
}

bool CpuBackend::startCollective(const rt::Step &step, std::vector<Tensor> &values,
                                 uint8_t *arena,
                                 std::map<int, rt::Communicator::Pending> &inFlight) const {
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  rt::Communicator &ranks = communicator();
  if (step.kind != rt::StepKind::Collective || ranks.size() < 2 || !arena)
    return false;
  // Only the gradients' collectives run in the background, and only into
  // their arena slot (the slot lives until the last step that reads it);
  // anything else runs as an ordinary step.
  Opcode opcode = kernel.body[0].opcode;
  if (opcode != Opcode::AllReduce && opcode != Opcode::ReduceScatter)
    return false;
  const Tensor &input = values[size_t(step.operands[0])];
  int result = step.results[0];
  const rt::Value &value = plan.values[size_t(result)];
  int64_t shard = (input.numElements() + ranks.size() - 1) / ranks.size();
  Tensor out;
  out.dtype = DType::F32;
  out.shape = opcode == Opcode::AllReduce ? input.shape : std::vector<int64_t>{shard};
  out.data = arena + value.offset;
  bool background = input.dtype == DType::F32 && matchesType(out, value.type) &&
                    int64_t(out.numBytes()) <= plannedBytes[size_t(result)] &&
                    value.offset + int64_t(out.numBytes()) <= plan.arenaBytes &&
                    kernel.body[0].ints[ops::slot::collective::ranks] == ranks.size();
  if (!background)
    return false;
  const float *from = input.as<float>();
  if (opcode == Opcode::AllReduce) {
    std::memcpy(out.data, from, out.numBytes());
    inFlight[result] = ranks.startAllReduceSum(out.as<float>(), size_t(out.numElements()));
  } else {
    std::vector<float> padded(size_t(shard * ranks.size()), 0.0f);
    std::copy(from, from + input.numElements(), padded.begin());
    inFlight[result] = ranks.startReduceScatterSum(
        std::move(padded), out.as<float>(), std::vector<int>(size_t(ranks.size()), int(shard)));
  }
  values[size_t(result)] = out;
  return true;
}

bool CpuBackend::runStep(const rt::Step &step, std::vector<Tensor> &values, uint8_t *arena,
                         rt::Status &error) const {
  const rt::Kernel &kernel = plan.kernels[size_t(step.kernel)];
  std::vector<Tensor> locals;
  std::vector<const rt::TensorType *> localTypes;
  for (size_t a = 0; a < step.operands.size(); ++a) {
    locals.push_back(values[size_t(step.operands[a])]);
    localTypes.push_back(&kernel.arguments[a]);
    if (!matchesType(locals.back(), kernel.arguments[a])) {
      return error.fail("kernel '" + kernel.name + "' argument #" + std::to_string(a) + " is " +
                        describe(locals.back()) + ", declared " +
                        formatShape(kernel.arguments[a].shape) + " " +
                        rt::dtypeName(kernel.arguments[a].dtype));
    }
  }
  // The last instruction reading each kernel argument: a yielded result
  // may be written straight into its arena slot unless that slot overlaps
  // an argument some later instruction still reads.
  std::vector<size_t> lastRead(step.operands.size(), 0);
  for (size_t i = 0; i < kernel.body.size(); ++i)
    for (int operand : kernel.body[i].operands)
      if (operand >= 0 && size_t(operand) < step.operands.size())
        lastRead[size_t(operand)] = i;

  size_t current = 0;
  // The plan value a kernel-local value is yielded as, or null.
  auto yieldedAs = [&](int local) -> const rt::Value * {
    for (size_t y = 0; y < kernel.yields.size(); ++y)
      if (kernel.yields[y] == local)
        return &plan.values[size_t(step.results[y])];
    return nullptr;
  };
  // The storage of the parameter a yielded local is computed in
  // (Step::inPlace), or null.
  auto inPlaceStorage = [&](int local) -> void * {
    for (size_t y = 0; y < kernel.yields.size(); ++y)
      if (kernel.yields[y] == local && step.inPlaceAt(y) >= 0)
        for (int operand : step.operands)
          if (plan.values[size_t(operand)].kind == rt::ValueKind::Parameter &&
              plan.values[size_t(operand)].index == step.inPlaceAt(y))
            return values[size_t(operand)].data;
    return nullptr;
  };
  KernelContext ctx(plan, kernel, memoryLimit,
                    [&](size_t result, DType dtype, std::vector<int64_t> shape) {
    Tensor tensor;
    tensor.dtype = dtype;
    tensor.shape = std::move(shape);
    if ((tensor.data = inPlaceStorage(int(locals.size() + result))))
      return tensor;
    // A yielded result goes straight to its arena slot when it fits the slot
    // and no later instruction still reads an argument the slot overlaps.
    if (const rt::Value *value = arena ? yieldedAs(int(locals.size() + result)) : nullptr) {
      tensor.data = arena + value->offset;
      int64_t bytes = int64_t(tensor.numBytes());
      bool safe = bytes <= plannedBytes[size_t(value - plan.values.data())] &&
                  value->offset + bytes <= plan.arenaBytes;
      for (size_t a = 0; safe && a < step.operands.size(); ++a)
        safe = !(lastRead[a] > current && overlaps(tensor, locals[a]));
      if (safe)
        return tensor;
    }
    // Scratch: every op writes each element of its results.
    tensor.storage = scratch.take(tensor.numBytes());
    tensor.data = tensor.storage.get();
    return tensor;
  });
  ctx.vocabularies = &vocabularies;
  ctx.communicator = &communicator();
  for (; current < kernel.body.size(); ++current) {
    const rt::Instruction &instruction = kernel.body[current];
    ctx.instruction = &instruction;
    Operands operands;
    std::vector<ops::ValueShape> shapes;
    ctx.operandTypes.clear();
    for (int operand : instruction.operands) {
      // Only the product of a GEMM whose bias add was fused has no data.
      if (operand >= 0 && !locals[size_t(operand)].data) {
        return error.fail("kernel '" + kernel.name + "': " + rt::opcodeName(instruction.opcode) +
                          " reads a matmul product that only exists with its bias added");
      }
      operands.push_back(operand < 0 ? nullptr : &locals[size_t(operand)]);
      ctx.operandTypes.push_back(operand < 0 ? nullptr : localTypes[size_t(operand)]);
      shapes.push_back(operand < 0 ? ops::ValueShape()
                                   : shapeOf(locals[size_t(operand)],
                                             ops::shapeReadsValues(instruction.opcode,
                                                                   shapes.size())));
    }
    if (!inferResults(ctx, shapes)) {
      return (error = ctx.error()), false;
    }
    // A gemm kernel's matmul and bias add run as one GEMM with an epilogue.
    int product = int(locals.size());
    int bias = kernel.kind == rt::KernelKind::Gemm && current == 0 ? rt::gemmForm(kernel)->bias : -1;
    if (bias >= 0) {
      locals.emplace_back(); // the unbiased product is never materialized
      localTypes.push_back(&instruction.results[0]);
      ops::ValueShape productShape = ctx.resultShapes[0];
      ++current;
      ctx.instruction = &kernel.body[current];
      shapes.clear();
      ctx.operandTypes.clear();
      for (int operand : ctx.instruction->operands) {
        shapes.push_back(operand == product ? productShape : shapeOf(locals[size_t(operand)], false));
        ctx.operandTypes.push_back(localTypes[size_t(operand)]);
      }
      if (!inferResults(ctx, shapes)) {
        return (error = ctx.error()), false;
      }
      Tensor sum;
      if (!runBiasMatmul(ctx, instruction, *operands[0], *operands[1],
                         locals[size_t(bias)], sum)) {
        return (error = ctx.error()), false;
      }
      locals.push_back(std::move(sum));
      localTypes.push_back(&kernel.body[current].results[0]);
      continue;
    }
    std::vector<Tensor> results(instruction.results.size());
    if (!dispatch(ctx, operands, results)) {
      return (error = ctx.error()), false;
    }
    for (size_t r = 0; r < results.size(); ++r) {
      locals.push_back(std::move(results[r]));
      localTypes.push_back(&instruction.results[r]);
    }
  }
  // Place each result: already in its slot, or copied there now.
  for (size_t y = 0; y < kernel.yields.size(); ++y) {
    const Tensor &local = locals[size_t(kernel.yields[y])];
    const rt::Value &value = plan.values[size_t(step.results[y])];
    if (!matchesType(local, value.type)) {
      return error.fail("kernel '" + kernel.name + "' yields " + describe(local) +
                        " for a value declared " + formatShape(value.type.shape) + " " +
                        rt::dtypeName(value.type.dtype));
    }
    Tensor &destination = values[size_t(step.results[y])];
    uint8_t *slot = arena ? arena + value.offset : nullptr;
    bool fits = slot && int64_t(local.numBytes()) <= plannedBytes[size_t(step.results[y])] &&
                value.offset + int64_t(local.numBytes()) <= plan.arenaBytes;
    if (local.data == slot || !fits || step.inPlaceAt(y) >= 0) {
      destination = local;
      continue;
    }
    destination = local;
    destination.storage.reset();
    destination.data = slot;
    std::memmove(slot, local.data, local.numBytes());
  }
  return true;
}

} // namespace lmc::cpu
