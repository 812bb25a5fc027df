//===- Parameters.h - parameter values for the evaluator ---------*- C++ -*-===//

#ifndef LMC_COMPILER_EVAL_PARAMETERS_H
#define LMC_COMPILER_EVAL_PARAMETERS_H

#include "compiler/eval/EvalTensor.h"

#include "dialects/lmc/IR/LmcOps.h"
#include "dialects/lmc/IR/LmcShapeRules.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace mlir::lmc::eval {

/// Where parameter values come from: a safetensors weights file, or
/// generated from each parameter's initializer with a seed. Values are made
/// on first use and kept.
class Parameters {
public:
  /// Generated values: a 64-bit Mersenne Twister seeded with `seed` and the
  /// parameter's name, so one parameter's values do not depend on the
  /// others. A parameter without an initializer gets a truncated normal of
  /// standard deviation 0.02.
  static Parameters fromSeed(uint64_t seed);

  /// Values read from a safetensors file. Fails, with a message, when the
  /// file cannot be read or its header is malformed.
  static FailureOr<Parameters> fromSafetensors(llvm::StringRef path,
                                               std::string &error);

  /// The value of `parameter`; reports at its location when the weights
  /// file lacks it or holds another shape or type.
  FailureOr<const EvalTensor *> get(ParameterOp parameter);

  /// Replaces the value of the parameter named `name` (its next get()
  /// returns `value` as given, unrounded): gradient checks perturb
  /// parameters this way.
  void set(llvm::StringRef name, EvalTensor value);

private:
  FailureOr<EvalTensor> generate(ParameterOp parameter);
  FailureOr<EvalTensor> read(ParameterOp parameter);

  uint64_t seed = 0;
  std::shared_ptr<llvm::MemoryBuffer> weights;
  /// Tensor name -> dtype, shape and byte range in `weights`.
  struct Entry {
    std::string dtype;
    SmallVector<int64_t> shape;
    uint64_t begin = 0, end = 0;
  };
  llvm::StringMap<Entry> entries;
  llvm::StringMap<EvalTensor> cache;
};

} // namespace mlir::lmc::eval

#endif // LMC_COMPILER_EVAL_PARAMETERS_H
