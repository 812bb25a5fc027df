//===- LengthMasks.h - recognizing masks built from lengths ------*- C++ -*-===//
//
// Graphs written op by op mark the real positions of a padded batch as
// `compare(lt, iota, reshape(lengths))`; attention fusion and padding removal
// both read the lengths back out of that spelling.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_PASSES_LENGTHMASKS_H
#define LMC_PASSES_LENGTHMASKS_H

#include "mlir/IR/Value.h"

namespace mlir::lmc {

/// Matches `valid = compare(lt, iota, reshape(lengths))` broadcasting to a
/// rank-`rank` tensor whose dimension `axis` holds the positions: `iota` is a
/// constant 0, 1, ... along `axis` (size 1 elsewhere, right-aligned) and
/// `lengths` ([B]) is reshaped to [B, 1, ..., 1] of rank `rank`. Returns
/// `lengths`, or null.
Value matchLengthsMask(Value valid, int64_t rank, int64_t axis);

} // namespace mlir::lmc

#endif // LMC_PASSES_LENGTHMASKS_H
