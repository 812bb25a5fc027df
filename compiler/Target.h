//===- Target.h - what a model is compiled for ------------------*- C++ -*-===//

#ifndef LMC_COMPILER_TARGET_H
#define LMC_COMPILER_TARGET_H

#include "compiler/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::lmc {

/// `cpu`, `cuda` (whatever GPU the runtime finds), or one GPU architecture
/// `sm_NN`, NN from 75 to 121 (what NVRTC 13 compiles for).
struct Target {
  std::string name = "cuda";
  /// The architecture's compute capability times ten, 0 when not fixed.
  int architecture = 0;
  bool isCpu() const { return name == "cpu"; }
};

/// Parses a `--target` value; on failure, `error` says what is accepted.
FailureOr<Target> parseTarget(llvm::StringRef text, std::string &error);

/// Reports, at the module's location, a precision the target cannot
/// compute in (bf16 needs sm_80 or newer), and records the target on the
/// module as `lmc.target`.
LogicalResult applyTarget(ModuleOp module, const Target &target,
                          Precision precision);

} // namespace mlir::lmc

#endif // LMC_COMPILER_TARGET_H
