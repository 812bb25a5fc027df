//===- EvalTensor.h - a tensor value of the reference evaluator -*- C++ -*-===//

#ifndef LMC_COMPILER_EVAL_EVALTENSOR_H
#define LMC_COMPILER_EVAL_EVALTENSOR_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace mlir::lmc::eval {

/// A dense row-major tensor. Floats are held as doubles (the evaluator
/// computes in f64 and rounds each result to its element type); integers and
/// i1 as exact int64, since fingerprints use all 64 bits.
struct EvalTensor {
  SmallVector<int64_t> shape;
  Type elementType;
  std::vector<double> reals;
  std::vector<int64_t> integers;

  static EvalTensor zeros(ArrayRef<int64_t> shape, Type elementType);

  bool isInteger() const { return !llvm::isa<FloatType>(elementType); }
  int64_t numElements() const;
  int64_t rank() const { return int64_t(shape.size()); }
  /// Element `i` as a double, whichever storage holds it.
  double real(int64_t i) const {
    return isInteger() ? double(integers[size_t(i)]) : reals[size_t(i)];
  }
  /// Rounds every float to the nearest value of the element type
  /// (f32, f16 or bf16), as storing it in that type would.
  void roundToElementType();
};

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape);

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_EVALTENSOR_H
