//===- TensorCore.h - what tensor-core attention kernels share --*- C++ -*-===//
//
// The forward (AttentionEmitter.cpp) and backward (AttentionGradEmitter.cpp)
// attention kernels on tensor cores are built from the same few PTX
// instructions: cp.async into shared memory, ldmatrix, mma.sync m16n8k16
// with f32 accumulation, ex2. The device emulator of lmc's tests defines
// LMC_EMULATED_DEVICE and brings host versions of these.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_TENSORCORE_H
#define LMC_COMPILER_CUDA_TENSORCORE_H

#include "artifact/Plan.h"

#include <string>

namespace mlir::lmc::cuda {

/// Whether the tensor-core kernels take attention of this element type and
/// head dimensions (query/key `dim`, value `valueDim`).
inline bool tensorCoreShape(::lmc::rt::DType dtype, int64_t dim, int64_t valueDim) {
  return (dtype == ::lmc::rt::DType::F16 || dtype == ::lmc::rt::DType::BF16) &&
         dim == valueDim && dim % 16 == 0 && dim <= 128;
}

/// CUDA C: LMC_MMA_TYPE and lmc_pack (two floats rounded into one 32-bit
/// register of `dtype`, f16 or bf16), then the PTX wrappers. It belongs
/// inside the source's `#if __CUDA_ARCH__ >= 800` branch: cp.async and
/// m16n8k16 need sm_80.
std::string tensorCoreHelpers(::lmc::rt::DType dtype);

} // namespace mlir::lmc::cuda

#endif // LMC_COMPILER_CUDA_TENSORCORE_H
