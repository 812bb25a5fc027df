//===- TensorCore.cpp - what tensor-core attention kernels share ----------===//

#include "compiler/cuda/TensorCore.h"

namespace mlir::lmc::cuda {
namespace {

/// The PTX wrappers, in the emitted source.
constexpr const char *kPtx = R"cuda(
// The PTX tensor-core kernels are made of. (The device emulator of lmc's
// tests defines LMC_EMULATED_DEVICE and its own versions of these.)
#ifndef LMC_EMULATED_DEVICE
__device__ __forceinline__ unsigned lmc_shared_address(const void *p) {
  return (unsigned)__cvta_generic_to_shared(p);
}
// 16 bytes global -> shared, asynchronously; zeros when !valid.
__device__ __forceinline__ void lmc_copy16(void *dst, const void *src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(lmc_shared_address(dst)),
               "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void lmc_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void lmc_wait_all_but_one() { asm volatile("cp.async.wait_group 1;\n" ::); }
__device__ __forceinline__ void lmc_ldmatrix(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(lmc_shared_address(p)));
}
__device__ __forceinline__ void lmc_ldmatrix_trans(unsigned (&r)[4], const void *p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(lmc_shared_address(p)));
}
// c += a * b on tensor cores: a is 16x16 (row), b is 16x8 (col), c is f32.
__device__ __forceinline__ void lmc_mma(float (&c)[4], const unsigned (&a)[4], unsigned b0,
                                        unsigned b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32." LMC_MMA_TYPE "." LMC_MMA_TYPE ".f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ float lmc_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
#endif
)cuda";

} // namespace

std::string tensorCoreHelpers(::lmc::rt::DType dtype) {
  bool half = dtype == ::lmc::rt::DType::F16;
  return std::string("#define LMC_MMA_TYPE \"") + (half ? "f16" : "bf16") + "\"\n" +
         "__device__ __forceinline__ unsigned lmc_pack(float lo, float hi) {\n" +
         (half ? "  __half2 h = __floats2half2_rn(lo, hi);\n"
               : "  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);\n") +
         "  return *reinterpret_cast<unsigned *>(&h);\n}\n" + kPtx;
}

} // namespace mlir::lmc::cuda
