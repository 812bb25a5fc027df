// NvrtcTest.cpp - NVRTC compiles raw-intrinsic CUDA C for the architectures
// lmc targets, without a GPU, and ptxas reports each kernel's registers and
// spills (the check every emitted kernel will go through).

#include "cuda/Nvrtc.h"

#include <gtest/gtest.h>

namespace {

// A row-wise kernel in the style the emitter will write: raw intrinsics,
// no CCCL headers.
const char *const kScaleRows = R"(
#include <cuda_fp16.h>
extern "C" __global__ void scale_rows(const __half *x, const float *scale, __half *y,
                                      int rows, int width) {
  int row = blockIdx.x, column = threadIdx.x;
  if (row < rows && column < width)
    y[row * width + column] = __float2half(__half2float(x[row * width + column]) * scale[column]);
}
)";

TEST(Nvrtc, CompilesForEachTargetWithoutSpills) {
  for (const char *arch : {"sm_80", "sm_90"}) {
    lmc::cuda::CompiledKernel kernel;
    ::lmc::rt::Status error;
    ASSERT_TRUE(lmc::cuda::compileCuda(kScaleRows, "scale_rows", arch, kernel, error)) << error;
    EXPECT_NE(kernel.ptx.find(".entry scale_rows"), std::string::npos);
    EXPECT_FALSE(kernel.cubin.empty()) << arch;
    std::string report;
    ASSERT_TRUE(lmc::cuda::ptxasResources(kernel.ptx, arch, report, error)) << error;
    EXPECT_NE(report.find("scale_rows: "), std::string::npos) << report;
    EXPECT_NE(report.find(" 0 spill stores, 0 spill loads"), std::string::npos) << report;
  }
}

TEST(Nvrtc, ErrorsNameTheKernelAndTheLine) {
  lmc::cuda::CompiledKernel kernel;
  ::lmc::rt::Status error;
  EXPECT_FALSE(lmc::cuda::compileCuda("extern \"C\" __global__ void k() { undefined(); }", "k",
                                      "sm_90", kernel, error));
  EXPECT_NE(error.message().find("NVRTC cannot compile 'k' for sm_90"), std::string::npos) << error;
  EXPECT_NE(error.message().find("k.cu(1)"), std::string::npos) << error;
}

} // namespace
