// ShapeRules.h - the result shapes of every opcode, from its operands.
//
// One implementation per op family (Ops.def's ShapeRule, then a rule per
// Special op), read by three callers that must agree:
//   - the package verifier (Artifact.cpp), on declared types, where a
//     dynamic dimension (-1) stays unknown and only what is known is checked;
//   - the CPU backend, which allocates each result with the shape the rule
//     gives for the operands it holds;
//   - the CUDA host (runtime/src/cuda/HostShapes.cpp), which sizes grids and
//     scratch before any kernel runs.
// The few shapes that depend on data (an unpad's token count, a pad's
// longest sequence, positions) read the integer values of the operands
// shapeReadsValues() names, when the caller holds them.

#ifndef LMC_RUNTIME_ARTIFACT_SHAPERULES_H
#define LMC_RUNTIME_ARTIFACT_SHAPERULES_H

#include "artifact/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lmc::ops {

/// A value's shape (-1: not known) and, for an integer value whose elements
/// the caller holds, those elements.
struct ValueShape {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;
  bool known = false; // `data` holds the elements

  /// The elements from dimension `from` on; -1 if a dimension is unknown.
  int64_t numElements(size_t from = 0) const;
  /// Every dimension is known.
  bool isStatic() const;
};

/// Operand `operand` of `opcode` is read for its values, not only its shape.
bool shapeReadsValues(fb::Opcode opcode, size_t operand);

/// The shapes of `op`'s results given its operands (null for an absent
/// optional operand) and the operands' declared types. Fails (false, with
/// `why`) when the operands cannot be the op's: dimensions that disagree, an
/// axis or a slice out of range, a length longer than the padding. Result
/// dimensions the operands do not determine are -1.
bool inferShapes(const rt::Instruction &op, const std::vector<const ValueShape *> &operands,
                 const std::vector<const rt::TensorType *> &declared,
                 std::vector<ValueShape> &results, std::string &why);

/// `shape` fits `type`: same rank, and every dimension known in both equal.
bool fitsType(const std::vector<int64_t> &shape, const rt::TensorType &type);

} // namespace lmc::ops

#endif // LMC_RUNTIME_ARTIFACT_SHAPERULES_H
