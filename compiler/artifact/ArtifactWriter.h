//===- ArtifactWriter.h - kernel IR to a .lmcpkg artifact --------*- C++ -*-===//
//
// Serializes a module in kernel IR (after lmc-form-kernels and
// lmc-plan-memory) into the flatbuffers artifact the runtime loads
// (runtime/schema/lmcpkg.fbs): parameters with their initializers, the
// function's inputs and outputs with their host contract, one kernel per
// lmc.kernel with its body as instructions, the plan of launches with arena
// offsets, constants and feature-column tables.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
#define LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::lmc {

/// The artifact's bytes; failures are reported at the offending op.
FailureOr<std::string> writeArtifact(ModuleOp module, llvm::StringRef precision);

} // namespace mlir::lmc

#endif // LMC_COMPILER_ARTIFACT_ARTIFACTWRITER_H
