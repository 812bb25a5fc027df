// EmittedKernelsTest.cpp - every kernel the CUDA emitter writes for the
// examples (and the attention shapes lmc targets, forward and backward)
// compiles with NVRTC for sm_80 and sm_90, and ptxas reports no spill
// stores or loads: the checks CI can make without a GPU. A failure prints the kernel and its report.

#include "CudaTestSupport.h"
#include "support/AttentionKernels.h"

#include "compiler/cuda/KernelEmitter.h"

#include "cuda/Nvrtc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>

namespace {

namespace rt = ::lmc::rt;
using mlir::lmc::cuda::EmittedKernel;

const char *const kArchitectures[] = {"sm_80", "sm_90"};

/// Compiles `source` for both architectures; a failure names `what`.
void expectCompilesWithoutSpills(const std::string &what, const std::string &source,
                                 const std::vector<rt::Launch> &launches) {
  for (const char *arch : kArchitectures) {
    lmc::cuda::CompiledKernel compiled;
    std::string report;
    rt::Status error;
    ASSERT_TRUE(lmc::cuda::compileCuda(source, what, arch, compiled, error))
        << error << "\n" << source;
    ASSERT_TRUE(lmc::cuda::ptxasResources(compiled.ptx, arch, report, error)) << error;
    for (const rt::Launch &launch : launches)
      EXPECT_NE(report.find(launch.entry + ": "), std::string::npos)
          << what << " lacks entry " << launch.entry << "\n" << report;
    std::smatch spill;
    static const std::regex kSpills("(\\d+) spill stores, (\\d+) spill loads");
    for (auto it = std::sregex_iterator(report.begin(), report.end(), kSpills);
         it != std::sregex_iterator(); ++it)
      EXPECT_TRUE((*it)[1] == "0" && (*it)[2] == "0") << what << " on " << arch << ":\n" << report;
  }
}

struct ModelCase {
  const char *example;
  mlir::lmc::Precision precision;
  bool packing;
  bool train = false; // the training step (lmc compile --train)
};

class EmittedModelKernels : public ::testing::TestWithParam<ModelCase> {};

TEST_P(EmittedModelKernels, CompileForSm80AndSm90WithoutSpills) {
  mlir::lmc::CompileOptions options;
  options.precision = GetParam().precision;
  options.packing = GetParam().packing;
  options.train = GetParam().train;
  rt::Plan plan;
  ASSERT_TRUE(lmc::testing::compilePlan(GetParam().example, options, plan));
  int emitted = 0;
  std::set<std::string> distinct;
  for (const rt::Kernel &kernel : plan.kernels) {
    EmittedKernel code;
    std::string error;
    ASSERT_TRUE(mlir::lmc::cuda::emitKernel(plan, kernel, code, error)) << error;
    if (kernel.kind == rt::KernelKind::Gemm) {
      EXPECT_TRUE(code.source.empty()) << "GEMMs go to cuBLASLt";
      continue;
    }
    ASSERT_FALSE(code.launches.empty()) << kernel.name;
    EXPECT_NE(code.source.find("// lmc "), std::string::npos) << "a header names the IR";
    // The layers of a model repeat their kernels under other names: each
    // distinct body is compiled once.
    std::string body = std::regex_replace(code.source, std::regex("\\b" + kernel.name + "_"), "K_");
    body = std::regex_replace(body, std::regex("'" + kernel.name + "'"), "'K'");
    if (!distinct.insert(body).second)
      continue;
    expectCompilesWithoutSpills(kernel.name, code.source, code.launches);
    ++emitted;
  }
  EXPECT_GT(emitted, 3) << "distinct kernels compiled";
}

INSTANTIATE_TEST_SUITE_P(
    Examples, EmittedModelKernels,
    ::testing::Values(ModelCase{"bst_ranker.yaml", mlir::lmc::Precision::FP32, true},
                      ModelCase{"bst_ranker.yaml", mlir::lmc::Precision::FP16, true},
                      ModelCase{"bst_ranker.yaml", mlir::lmc::Precision::BF16, false},
                      ModelCase{"text_encoder.yaml", mlir::lmc::Precision::FP32, false},
                      ModelCase{"text_encoder.yaml", mlir::lmc::Precision::FP16, true},
                      ModelCase{"text_encoder.yaml", mlir::lmc::Precision::BF16, true},
                      ModelCase{"ranker.mlir", mlir::lmc::Precision::FP16, true},
                      ModelCase{"../bench/specs/encoder.yaml", mlir::lmc::Precision::FP16, true},
                      ModelCase{"bst_ranker.yaml", mlir::lmc::Precision::FP16, true, true}));

struct AttentionCase {
  rt::DType dtype;
  int64_t heads, keyHeads, dim;
  bool causal;
  int blockQ, blockK;
  bool backward = false; // lmc.attention_grad's kernels
};

class EmittedAttention : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(EmittedAttention, CompilesWithoutSpills) {
  const AttentionCase &c = GetParam();
  rt::Kernel kernel =
      c.backward ? lmc::testing::attentionGradKernel(c.dtype, c.heads, c.keyHeads, c.dim,
                                                     c.causal, c.blockQ, c.blockK)
                 : lmc::testing::attentionKernel(c.dtype, c.heads, c.keyHeads, c.dim, c.causal,
                                                 false, c.blockQ, c.blockK);
  EmittedKernel code;
  std::string error;
  ASSERT_TRUE(c.backward ? mlir::lmc::cuda::emitAttentionGradKernel(kernel, code, error)
                         : mlir::lmc::cuda::emitAttentionKernel(kernel, code, error))
      << error;
  ASSERT_EQ(code.launches.size(), c.backward ? 2u : 1u);
  for (const rt::Launch &launch : code.launches)
    EXPECT_EQ(launch.pattern, rt::LaunchPattern::AttentionTiles);
  bool tensorCores = c.dtype != rt::DType::F32;
  EXPECT_EQ(code.source.find("mma.sync") != std::string::npos, tensorCores);
  expectCompilesWithoutSpills(kernel.name, code.source, code.launches);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, EmittedAttention,
    ::testing::Values(AttentionCase{rt::DType::F16, 16, 16, 128, false, 128, 64},
                      AttentionCase{rt::DType::F16, 32, 32, 128, true, 128, 64},
                      AttentionCase{rt::DType::F16, 16, 16, 64, false, 128, 128},
                      AttentionCase{rt::DType::F16, 12, 12, 64, true, 128, 128},
                      AttentionCase{rt::DType::BF16, 16, 4, 128, false, 128, 64},
                      AttentionCase{rt::DType::BF16, 8, 8, 64, true, 64, 64},
                      AttentionCase{rt::DType::F32, 4, 4, 16, false, 128, 64},
                      AttentionCase{rt::DType::F16, 16, 16, 128, true, 128, 64, true},
                      AttentionCase{rt::DType::F16, 12, 12, 64, false, 128, 128, true},
                      AttentionCase{rt::DType::BF16, 16, 4, 128, false, 128, 64, true},
                      AttentionCase{rt::DType::F32, 4, 4, 16, true, 128, 64, true}));

} // namespace
