// OpsMatmul.cpp - lmc.matmul through the system BLAS (OpenBLAS on Debian).
//
// f16/bf16 operands are widened to f32 first (BLAS has no f16 GEMM here);
// the result is rounded to its storage type, as the GPU's f32-accumulating
// GEMM would. BLAS runs single-threaded inside the backend's OpenMP threads
// (set once in CpuBackend's constructor): two thread pools on the same cores
// spend their time yielding to each other.

#include "cpu/KernelContext.h"

#include <cblas.h>

#include <algorithm>
#include <omp.h>

namespace lmc::cpu {

bool runMatmul(KernelContext &ctx, const Operands &in, std::vector<Tensor> &out) {
  const Tensor &lhs = *in[0], &rhs = *in[1];
  bool tl = ctx.instruction->ints[0] != 0, tr = ctx.instruction->ints[1] != 0;
  size_t lr = lhs.shape.size(), rr = rhs.shape.size();
  if (!rt::isFloat(lhs.dtype) || lhs.dtype != rhs.dtype || lr < 2 || rr < 2 ||
      (rr != 2 && rr != lr))
    return ctx.fail("operands " + describe(lhs) + " and " + describe(rhs) + " do not multiply");
  int64_t m = tl ? lhs.shape[lr - 1] : lhs.shape[lr - 2];
  int64_t k = tl ? lhs.shape[lr - 2] : lhs.shape[lr - 1];
  int64_t rk = tr ? rhs.shape[rr - 1] : rhs.shape[rr - 2];
  int64_t n = tr ? rhs.shape[rr - 2] : rhs.shape[rr - 1];
  std::vector<int64_t> shape(lhs.shape.begin(), lhs.shape.end() - 2);
  bool batchesMatch = rr == 2 || std::equal(shape.begin(), shape.end(), rhs.shape.begin());
  if (k != rk || !batchesMatch)
    return ctx.fail("operands " + describe(lhs) + " and " + describe(rhs) + " do not multiply");
  int64_t batches = 1;
  for (int64_t dim : shape)
    batches *= dim;
  shape.push_back(m);
  shape.push_back(n);
  Tensor &result = out[0];
  if (!ctx.allocate(0, lhs.dtype, shape, result))
    return false;
  if (result.numElements() == 0)
    return true;
  FloatInput a(lhs), b(rhs);
  FloatOutput c(result);
  // A shared 2-D right operand under an untransposed left one is a single
  // GEMM over all batch rows.
  if (rr == 2 && !tl) {
    m *= batches;
    batches = 1;
  }
  // The backend's threads split the rows (and batches); each block is one
  // single-threaded BLAS call, so BLAS threads never compete with ours.
  // One block per thread: each BLAS call packs the right operand again, so
  // fewer, larger blocks are faster than finer load balancing.
  int64_t threads = omp_get_max_threads();
  int64_t rowBlock = tl ? m : std::max<int64_t>(64, (m + threads - 1) / threads);
  int64_t blocks = (m + rowBlock - 1) / rowBlock;
  parallelFor(batches * blocks, rowBlock * n * k, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      int64_t batch = item / blocks, row = item % blocks * rowBlock;
      int64_t rows = std::min(rowBlock, m - row);
      const float *pa = a.data() + batch * m * k + (tl ? row : row * k);
      const float *pb = b.data() + (rr == 2 ? 0 : batch * k * n);
      cblas_sgemm(CblasRowMajor, tl ? CblasTrans : CblasNoTrans,
                  tr ? CblasTrans : CblasNoTrans, int(rows), int(n), int(k), 1.0f, pa,
                  tl ? int(m) : int(k), pb, tr ? int(k) : int(n), 0.0f,
                  c.data() + batch * m * n + row * n, int(n));
    }
  });
  c.commit();
  return true;
}

} // namespace lmc::cpu
