//===- CudaCodegen.h - CUDA C and NVRTC binaries for a package --*- C++ -*-===//
//
// `lmc compile --target=cuda|sm_XX` packages every kernel with its CUDA C
// (KernelEmitter.h) and, when lmc was built with the CUDA toolkit, the PTX
// NVRTC makes of it: for sm_XX also a cubin, which the runtime loads
// directly on a device of that architecture. `--target=cuda` stores PTX for
// compute_80, the oldest architecture the tensor-core attention runs on.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_CUDACODEGEN_H
#define LMC_COMPILER_CUDA_CUDACODEGEN_H

#include "compiler/Target.h"
#include "compiler/artifact/ArtifactWriter.h"

namespace mlir::lmc {

/// The code of every kernel of `module` (already in kernel IR), read from
/// its packaged form `artifact`. Errors are reported at the kernel they
/// concern.
FailureOr<CodeByKernel> generateCudaCode(ModuleOp module, const std::string &artifact,
                                         const Target &target);

/// True when this build can run NVRTC (the CUDA toolkit was found).
bool haveNvrtc();

} // namespace mlir::lmc

#endif // LMC_COMPILER_CUDA_CUDACODEGEN_H
