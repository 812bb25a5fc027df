// Gemm.cpp - row-major C = A B (+ bias) as cuBLASLt's column-major
// C^T = B^T A^T: the operands swap places and nothing is transposed in
// memory.

#include "cuda/Gemm.h"

#include "artifact/OpSlots.h"

#include <memory>
#include <type_traits>

namespace lmc::cuda {
namespace {

cudaDataType_t dataType(rt::DType dtype) {
  switch (dtype) {
  case rt::DType::F16: return CUDA_R_16F;
  case rt::DType::BF16: return CUDA_R_16BF;
  default: return CUDA_R_32F;
  }
}

} // namespace

bool GemmRunner::run(const rt::Kernel &kernel, const std::vector<HostValue> &shapes,
                     const std::vector<CUdeviceptr> &pointers, CUstream stream, rt::Status &error) {
  std::string where = "kernel '" + kernel.name + "'";
  std::optional<rt::GemmForm> form = rt::gemmForm(kernel); // the loader checked it
  if (!form)
    return error.fail(where + " is not a matmul with an optional bias");
  const rt::Instruction &matmul = *form->matmul;
  int a = form->lhs, b = form->rhs, bias = form->bias, result = form->result;
  const std::vector<int64_t> &as = shapes[size_t(a)].shape, &bs = shapes[size_t(b)].shape;
  if (bs.size() != 2 || as.size() < 2)
    return error.fail(where + ": batched right-hand sides have no CUDA GEMM yet");
  bool transposeA = matmul.ints[ops::slot::matmul::transposeLhs] != 0,
       transposeB = matmul.ints[ops::slot::matmul::transposeRhs] != 0;
  if (transposeA && as.size() != 2)
    return error.fail(where + ": a transposed batched left-hand side has no CUDA GEMM yet");
  // Leading dimensions of A fold into its rows.
  int64_t k = transposeA ? as[0] : as.back();
  int64_t m = shapes[size_t(a)].numElements() / std::max<int64_t>(k, 1);
  int64_t n = transposeB ? bs[0] : bs[1];
  if (m == 0 || n == 0)
    return true;
  rt::DType dtype = kernel.arguments[size_t(a)].dtype;
  cudaDataType_t type = dataType(dtype);

  auto destroyDesc = [&](cublasLtMatmulDesc_t d) { driver.cublasLtMatmulDescDestroy(d); };
  auto destroyLayout = [&](cublasLtMatrixLayout_t l) { driver.cublasLtMatrixLayoutDestroy(l); };
  cublasLtMatmulDesc_t desc = nullptr;
  if (!driver.check(driver.cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                    where + ": cublasLtMatmulDescCreate", error))
    return false;
  std::unique_ptr<std::remove_pointer_t<cublasLtMatmulDesc_t>, decltype(destroyDesc)> descOwner(desc, destroyDesc);
  // Column-major view: C^T (n x m) = op(B^T) (n x k) * op(A^T) (k x m).
  cublasOperation_t opFirst = transposeB ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opSecond = transposeA ? CUBLAS_OP_T : CUBLAS_OP_N;
  driver.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opFirst, sizeof opFirst);
  driver.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opSecond, sizeof opSecond);
  if (bias >= 0) {
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    void *biasPointer = reinterpret_cast<void *>(pointers[size_t(bias)]);
    driver.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                          sizeof epilogue);
    driver.cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &biasPointer,
                                          sizeof biasPointer);
  }
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, out = nullptr;
  // B is row-major [k, n] (or [n, k] transposed): column-major [n, k] with ld n.
  if (!driver.check(driver.cublasLtMatrixLayoutCreate(&first, type, transposeB ? k : n,
                                                      transposeB ? n : k, transposeB ? k : n),
                    where + ": layout", error))
    return false;
  std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>, decltype(destroyLayout)> firstOwner(first, destroyLayout);
  if (!driver.check(driver.cublasLtMatrixLayoutCreate(&second, type, transposeA ? m : k,
                                                      transposeA ? k : m, transposeA ? m : k),
                    where + ": layout", error))
    return false;
  std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>, decltype(destroyLayout)> secondOwner(second, destroyLayout);
  if (!driver.check(driver.cublasLtMatrixLayoutCreate(&out, type, n, m, n), where + ": layout",
                    error))
    return false;
  std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>, decltype(destroyLayout)> outOwner(out, destroyLayout);

  auto key = std::make_tuple(int(dtype), m, n, k, transposeA, transposeB, bias >= 0);
  auto found = algorithms.find(key);
  if (found == algorithms.end()) {
    cublasLtMatmulPreference_t preference = nullptr;
    if (!driver.check(driver.cublasLtMatmulPreferenceCreate(&preference), where, error))
      return false;
    driver.cublasLtMatmulPreferenceSetAttribute(preference,
                                                CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                &workspaceBytes, sizeof workspaceBytes);
    cublasLtMatmulHeuristicResult_t heuristic{};
    int count = 0;
    cublasStatus_t status = driver.cublasLtMatmulAlgoGetHeuristic(
        handle, desc, first, second, out, out, preference, 1, &heuristic, &count);
    driver.cublasLtMatmulPreferenceDestroy(preference);
    if (!driver.check(status, where + ": cublasLtMatmulAlgoGetHeuristic", error))
      return false;
    if (count == 0)
      return error.fail(where + ": cuBLASLt has no algorithm for " + std::to_string(m) + "x" +
                        std::to_string(n) + "x" + std::to_string(k));
    found = algorithms.emplace(key, heuristic.algo).first;
  }
  float one = 1.0f, zero = 0.0f;
  return driver.check(
      driver.cublasLtMatmul(handle, desc, &one, reinterpret_cast<void *>(pointers[size_t(b)]),
                            first, reinterpret_cast<void *>(pointers[size_t(a)]), second, &zero,
                            reinterpret_cast<void *>(pointers[size_t(result)]), out,
                            reinterpret_cast<void *>(pointers[size_t(result)]), out,
                            &found->second, reinterpret_cast<void *>(workspace), workspaceBytes,
                            reinterpret_cast<cudaStream_t>(stream)),
      where + ": cublasLtMatmul", error);
}

} // namespace lmc::cuda
