// Driver.h - the CUDA driver API and cuBLASLt, opened at run time.
//
// The runtime must load on machines without a GPU or a CUDA installation
// (CI, CPU-only servers): libcuda.so.1 and libcublasLt are opened with
// dlopen when a CUDA backend is first made, and a missing library is an
// error message, never a failure to start. Every call goes through check(),
// which turns a CUresult into text naming what failed.

#ifndef LMC_RUNTIME_CUDA_DRIVER_H
#define LMC_RUNTIME_CUDA_DRIVER_H

#include "Status.h"

#include <cublasLt.h>
#include <cuda.h>

#include <string>

namespace lmc::cuda {

/// `bytes` rounded up to 256: what the runtime keeps offsets inside one
/// device allocation aligned to, as cuMemAlloc aligns its own addresses.
inline size_t deviceAligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

// cuda.h maps some names to versioned symbols (cuMemAlloc -> cuMemAlloc_v2):
// the member and the symbol looked up follow the same mapping.
#define LMC_DRIVER_FUNCTIONS(X)                                                                   \
  X(cuInit) X(cuDriverGetVersion) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetAttribute)      \
  X(cuDeviceGetName) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent)  \
  X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuFuncSetAttribute)              \
  X(cuLaunchKernel) X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync)          \
  X(cuMemcpyDtoDAsync) X(cuMemsetD8Async) X(cuStreamCreate) X(cuStreamDestroy)                   \
  X(cuStreamSynchronize) X(cuStreamWaitEvent) X(cuEventCreate) X(cuEventDestroy) X(cuEventRecord) \
  X(cuGetErrorName) X(cuGetErrorString)

#define LMC_CUBLASLT_FUNCTIONS(X)                                                                 \
  X(cublasLtCreate) X(cublasLtDestroy) X(cublasLtMatmulDescCreate) X(cublasLtMatmulDescDestroy)   \
  X(cublasLtMatmulDescSetAttribute) X(cublasLtMatrixLayoutCreate) X(cublasLtMatrixLayoutDestroy)  \
  X(cublasLtMatmulPreferenceCreate) X(cublasLtMatmulPreferenceDestroy)                            \
  X(cublasLtMatmulPreferenceSetAttribute) X(cublasLtMatmulAlgoGetHeuristic) X(cublasLtMatmul)

struct Driver {
#define LMC_DECLARE(function) decltype(&::function) function = nullptr;
  LMC_DRIVER_FUNCTIONS(LMC_DECLARE)
  LMC_CUBLASLT_FUNCTIONS(LMC_DECLARE)
#undef LMC_DECLARE
  /// Set by the device emulator of the tests (test/unit/cuda): modules are
  /// loaded from a kernel's CUDA C itself, not from compiled code.
  bool loadsSource = false;

  /// The process's driver, opened and initialized once; null with `error`
  /// set when there is no usable driver or cuBLASLt.
  static const Driver *get(rt::Status &error);

  /// False, with `error` = "<what>: CUDA_ERROR_...: <description>", unless
  /// `result` is CUDA_SUCCESS.
  bool check(CUresult result, const std::string &what, rt::Status &error) const;
  bool check(cublasStatus_t status, const std::string &what, rt::Status &error) const;
};

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_DRIVER_H
