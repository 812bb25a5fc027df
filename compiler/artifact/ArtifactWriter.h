//===- ArtifactWriter.h - kernel IR to a .lmcpkg artifact --------*- C++ -*-===//
//
// Serializes a module in kernel IR (after lmc-form-kernels and
// lmc-plan-memory) into the flatbuffers artifact the runtime loads
// (runtime/artifact/lmcpkg.fbs): parameters with their initializers, the
// function's inputs and outputs with their host contract, one kernel per
// lmc.kernel with its body as instructions, the plan of launches with arena
// offsets, constants and feature-column tables.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "artifact/Plan.h"

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>

namespace mlir::lmc {

/// What the CUDA emitter made of one kernel (compiler/cuda).
struct KernelCode {
  std::string source;
  std::vector<::lmc::rt::Binary> binaries;
  std::vector<::lmc::rt::Launch> launches;
};

/// Kernel name -> its code.
using CodeByKernel = std::map<std::string, KernelCode>;

/// The artifact's bytes, with `code` stored beside the kernels it names;
/// failures are reported at the offending op.
FailureOr<std::string> writeArtifact(ModuleOp module, llvm::StringRef precision,
                                     const CodeByKernel &code = {});

} // namespace mlir::lmc

#endif // LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
