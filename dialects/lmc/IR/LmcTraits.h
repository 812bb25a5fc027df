//===- LmcTraits.h - what the passes ask of an op ---------------*- C++ -*-===//
//
// Properties declared once on each op in ODS (LmcDialect.td) and asked with
// op->hasTrait<...>() by the passes, so no pass keeps its own list of ops:
//
//   Elementwise       each result element is computed from the operand
//                     elements at the same (broadcast) index and nothing
//                     else. Fusable in gather form; a kernel of only these
//                     may write its result over an input of as many
//                     elements.
//   RowLocal          each row (all dimensions but the last) is computed
//                     from the same row of its operands alone: a norm, a
//                     softmax or reduction over the last axis, a per-value
//                     feature column. Elementwise ops are row-local too.
//                     --lmc-remove-padding computes these on packed tokens.
//   LowPrecisionSafe  stores its float values in f16/bf16 under
//                     --lmc-mixed-precision (the rest stay f32: exp, log,
//                     rsqrt and sums, whose range or rounding f16 breaks).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECTS_LMC_IR_LMCTRAITS_H
#define LMC_DIALECTS_LMC_IR_LMCTRAITS_H

#include "mlir/IR/OpDefinition.h"

namespace mlir::lmc::LmcTrait {

template <typename ConcreteType>
class Elementwise : public mlir::OpTrait::TraitBase<ConcreteType, Elementwise> {};

template <typename ConcreteType>
class RowLocal : public mlir::OpTrait::TraitBase<ConcreteType, RowLocal> {};

template <typename ConcreteType>
class LowPrecisionSafe : public mlir::OpTrait::TraitBase<ConcreteType, LowPrecisionSafe> {};

} // namespace mlir::lmc::LmcTrait

namespace mlir::lmc {

/// Elementwise, or row-local in the sense above.
inline bool isRowLocal(Operation *op) {
  return op->hasTrait<LmcTrait::Elementwise>() || op->hasTrait<LmcTrait::RowLocal>();
}

} // namespace mlir::lmc

#endif // LMC_DIALECTS_LMC_IR_LMCTRAITS_H
