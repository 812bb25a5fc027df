// OpsMatmul.cpp - lmc.matmul through the system BLAS (OpenBLAS on Debian).
//
// f16/bf16 operands are widened to f32 first (BLAS has no f16 GEMM here);
// the result is rounded to its storage type, as the GPU's f32-accumulating
// GEMM would. A GEMM is one call from the backend's thread, which OpenBLAS
// spreads over the team (cpu/ThreadPool.h): measured on an encoder FFN
// step, that beats splitting rows over the team with single-threaded calls
// (392 vs 463 ms on 2 threads: each call packs the right operand again).

#include "cpu/KernelContext.h"

#include <cblas.h>

#include <algorithm>
#include <climits>

namespace lmc::cpu {

namespace {

/// C = op(A) op(B) [+ bias on every row]: the bias is written into C first
/// and the GEMM accumulates onto it (beta = 1), saving a pass over C.
bool gemm(KernelContext &ctx, const rt::Instruction &matmul, const Tensor &lhs,
          const Tensor &rhs, const Tensor *bias, Tensor &result) {
  bool tl = matmul.ints[ops::slot::matmul::transposeLhs] != 0,
       tr = matmul.ints[ops::slot::matmul::transposeRhs] != 0;
  size_t lr = lhs.shape.size(), rr = rhs.shape.size();
  if (!rt::isFloat(lhs.dtype) || lhs.dtype != rhs.dtype || lr < 2 || rr < 2 ||
      (rr != 2 && rr != lr))
    return ctx.fail("operands " + describe(lhs) + " and " + describe(rhs) + " do not multiply");
  int64_t m = tl ? lhs.shape[lr - 1] : lhs.shape[lr - 2];
  int64_t k = tl ? lhs.shape[lr - 2] : lhs.shape[lr - 1];
  int64_t rk = tr ? rhs.shape[rr - 1] : rhs.shape[rr - 2];
  int64_t n = tr ? rhs.shape[rr - 2] : rhs.shape[rr - 1];
  // This kernel takes a 2-D right operand or one with the left's batches.
  bool batchesMatch = rr == 2 || std::equal(lhs.shape.begin(), lhs.shape.end() - 2,
                                            rhs.shape.begin());
  if (k != rk || !batchesMatch)
    return ctx.fail("operands " + describe(lhs) + " and " + describe(rhs) + " do not multiply");
  if (bias && (bias->dtype != lhs.dtype || bias->rank() != 1 || bias->shape[0] != n))
    return ctx.fail("bias " + describe(*bias) + " does not fit a GEMM of " +
                    std::to_string(n) + " columns");
  int64_t batches = 1;
  for (size_t d = 0; d + 2 < lr; ++d)
    batches *= lhs.shape[d];
  if (!ctx.allocate(0, lhs.dtype, result))
    return false;
  if (result.numElements() == 0)
    return true;
  FloatInput a(lhs), b(rhs);
  FloatOutput c(result);
  float beta = 0.0f;
  if (bias) {
    FloatInput biasValues(*bias);
    float *rows = c.data();
    parallelFor(batches * m, n, [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row)
        std::copy(biasValues.data(), biasValues.data() + n, rows + row * n);
    });
    beta = 1.0f;
  }
  // A shared 2-D right operand under an untransposed left one is a single
  // GEMM over all batch rows.
  if (rr == 2 && !tl) {
    m *= batches;
    batches = 1;
  }
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return ctx.fail("a GEMM of " + std::to_string(m) + " x " + std::to_string(n) + " x " +
                    std::to_string(k) + " exceeds BLAS's int dimensions");
  for (int64_t batch = 0; batch < batches; ++batch)
    cblas_sgemm(CblasRowMajor, tl ? CblasTrans : CblasNoTrans, tr ? CblasTrans : CblasNoTrans,
                int(m), int(n), int(k), 1.0f, a.data() + batch * m * k, tl ? int(m) : int(k),
                b.data() + (rr == 2 ? 0 : batch * k * n), tr ? int(k) : int(n), beta,
                c.data() + batch * m * n, int(n));
  c.commit();
  return true;
}

} // namespace

bool runMatmul(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  return gemm(ctx, *ctx.instruction, *in[0], *in[1], nullptr, out[0]);
}

bool runBiasMatmul(KernelContext &ctx, const rt::Instruction &matmul, const Tensor &lhs,
                   const Tensor &rhs, const Tensor &bias, Tensor &result) {
  return gemm(ctx, matmul, lhs, rhs, &bias, result);
}

} // namespace lmc::cpu
