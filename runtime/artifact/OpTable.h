// OpTable.h - the per-opcode facts of Ops.def as a table, for the compiler's
// artifact writer and every part of the runtime.

#ifndef LMC_RUNTIME_ARTIFACT_OPTABLE_H
#define LMC_RUNTIME_ARTIFACT_OPTABLE_H

#include "artifact/OpSlots.h"

#include "lmcpkg_generated.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lmc::ops {

/// The CPU kernel family that runs an op (runtime/src/cpu/Ops*.cpp).
enum class CpuGroup {
  Elementwise, Composite, Reduction, DataMovement, Sequence, FeatureColumn,
  Collective, Matmul, Attention, AttentionGrad, Optimizer,
};

/// How the CUDA emitter computes an op: inline in a fused kernel's gather
/// form (one group of FusedEmitter per Gather* form), as a warp-per-row
/// stage, or in a kernel of its own kind.
enum class CudaForm {
  GatherElementwise, GatherDataMovement, GatherSequence, GatherReduction, GatherMatmul,
  GatherFeatureColumn, RowStage, AttentionKernel, CollectiveKernel, OptimizerKernel,
};

/// The result shape: NumPy broadcasting of the operands, the first
/// operand's shape, or the op's own rule.
enum class ShapeRule { Broadcast, SameAsFirst, Special };

/// Operand count of an op that takes any number.
constexpr int kVariadic = 1 << 20;

struct OpInfo {
  fb::Opcode opcode;
  const char *name;
  CpuGroup cpu;
  CudaForm cuda;
  ShapeRule shape;
  int minOperands, maxOperands, minResults, maxResults, ints, reals;
  bool usesTable;
  unsigned optionalOperands; // bit i set: operand i may be -1
  bool loops;                // an element of the result costs a loop
};

inline constexpr OpInfo kOps[] = {
#define LMC_OP(opcode, name, cpu, cuda, shape, minOperands, maxOperands, minResults, maxResults, \
               ints, reals, usesTable, optionalOperands, loops)                                  \
  {fb::Opcode::opcode, name, CpuGroup::cpu, CudaForm::cuda, ShapeRule::shape, minOperands,       \
   maxOperands, minResults, maxResults, ints, reals, usesTable, optionalOperands, loops},
#include "Ops.def"
};

constexpr bool rowsFollowOpcodes() {
  for (size_t i = 0; i < sizeof(kOps) / sizeof(kOps[0]); ++i)
    if (size_t(kOps[i].opcode) != i)
      return false;
  return sizeof(kOps) / sizeof(kOps[0]) == size_t(fb::Opcode::MAX) + 1;
}
static_assert(rowsFollowOpcodes(), "Ops.def has one row per fb::Opcode, in the enum's order");

/// The row of `opcode`, which must be a valid opcode (<= fb::Opcode::MAX).
inline const OpInfo &info(fb::Opcode opcode) { return kOps[size_t(opcode)]; }

/// The opcode of the op named `name` ("lmc.add"), if a package can hold it.
inline std::optional<fb::Opcode> opcodeNamed(std::string_view name) {
  for (const OpInfo &op : kOps)
    if (name == op.name)
      return op.opcode;
  return std::nullopt;
}

/// lmc.attention's (and attention_grad's) softmax scale: the given one, or
/// 1/sqrt(head dim) when the op has none (NaN in the package). Computed in
/// double and rounded once where a kernel takes a float.
inline double attentionScale(double given, int64_t headDim) {
  return std::isnan(given) ? 1.0 / std::sqrt(double(headDim)) : given;
}

} // namespace lmc::ops

#endif // LMC_RUNTIME_ARTIFACT_OPTABLE_H
