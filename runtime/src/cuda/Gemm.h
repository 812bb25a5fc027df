// Gemm.h - a plan's GEMM kernel (matmul, optional bias add) on cuBLASLt.

#ifndef LMC_RUNTIME_CUDA_GEMM_H
#define LMC_RUNTIME_CUDA_GEMM_H

#include "Status.h"
#include "artifact/Plan.h"
#include "cuda/Driver.h"
#include "cuda/HostShapes.h"

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace lmc::cuda {

class GemmRunner {
public:
  GemmRunner(const Driver &driver, cublasLtHandle_t handle, CUdeviceptr workspace,
             size_t workspaceBytes)
      : driver(driver), handle(handle), workspace(workspace), workspaceBytes(workspaceBytes) {}

  /// Runs `kernel` (a gemm kernel: lmc.matmul, then an lmc.add of a rank-1
  /// bias, fused as cuBLASLt's bias epilogue) on `stream`; `pointers` and
  /// `shapes` are indexed by kernel-local value.
  bool run(const rt::Kernel &kernel, const std::vector<HostValue> &shapes,
           const std::vector<CUdeviceptr> &pointers, CUstream stream, rt::Status &error);

private:
  const Driver &driver;
  cublasLtHandle_t handle;
  CUdeviceptr workspace;
  size_t workspaceBytes;
  /// The heuristic's algorithm per (dtype, m, n, k, transposes, bias).
  std::map<std::tuple<int, int64_t, int64_t, int64_t, bool, bool, bool>, cublasLtMatmulAlgo_t>
      algorithms;
};

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_GEMM_H
