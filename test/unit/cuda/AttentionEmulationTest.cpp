// AttentionEmulationTest.cpp - the attention kernel lmc emits, through the
// CUDA backend on the emulated device, against the CPU backend running the
// same one-kernel plan: packed sequences (empty and one-token ones among
// them, lengths around the tile sizes), causal masking, grouped key heads
// and a padded batch with key lengths; in the kernel's plain form (the
// emulator reporting sm_75) and its tensor-core form (sm_80: ldmatrix and
// mma.sync emulated lane by lane from the PTX ISA's fragment layouts).

#include "CudaTestSupport.h"
#include "support/AttentionInputs.h"
#include "support/AttentionKernels.h"

#include "compiler/cuda/KernelEmitter.h"

#include "cpu/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;
using lmc::testing::randomNormal;

struct Case {
  const char *name;
  rt::DType dtype;
  int64_t heads, keyHeads, dim;
  bool causal, padded;
  std::vector<int32_t> lengths;
  int arch = 75; // 80: the tensor-core kernel
};

/// A plan of one attention kernel: inputs q, k, v and cu_seqlens (or
/// lengths for a padded batch), one output.
rt::Plan attentionPlan(const Case &c, int64_t rows, int64_t sequence) {
  rt::Plan plan;
  plan.formatVersion = rt::kFormatVersion;
  plan.name = "attention";
  plan.target = "cuda";
  plan.budget = {int64_t(c.lengths.size()), sequence, rows};
  rt::Kernel kernel = lmc::testing::attentionKernel(c.dtype, c.heads, c.keyHeads, c.dim, c.causal,
                                                    c.padded, 64, 32);
  const rt::TensorType &result = kernel.body[0].results[0];
  plan.arenaBytes = rt::bytesUnder(result, plan.budget);
  const char *features[] = {"q", "k", "v", "index"};
  for (int i = 0; i < 4; ++i) {
    plan.values.push_back({kernel.arguments[size_t(i)], rt::ValueKind::Input, i, -1});
    plan.inputs.push_back({features[i], i == 3 ? rt::Ingest::Lengths : rt::Ingest::Value, i, {}, {}});
  }
  plan.values.push_back({result, rt::ValueKind::Arena, -1, 0});
  plan.kernels = {kernel};
  plan.steps = {{rt::StepKind::Launch, 0, {0, 1, 2, 3}, {4}, {}}};
  plan.outputs = {{"out", "", 4}};
  return plan;
}

class AttentionEmulation : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionEmulation, MatchesTheCpuBackend) {
  const Case &c = GetParam();
  int64_t batch = int64_t(c.lengths.size()), longest = 0, tokens = 0;
  for (int32_t length : c.lengths) {
    longest = std::max<int64_t>(longest, length);
    tokens += length;
  }
  int64_t rows = c.padded ? batch * longest : tokens;
  rt::Plan plan = attentionPlan(c, rows, longest);
  mlir::lmc::cuda::EmittedKernel code;
  std::string error;
  ASSERT_TRUE(mlir::lmc::cuda::emitAttentionKernel(plan.kernels[0], code, error)) << error;
  EXPECT_EQ(code.source.find("mma.sync") != std::string::npos, c.dtype != rt::DType::F32 &&
                                                                   c.dim % 16 == 0);
  plan.kernels[0].source = code.source;
  plan.kernels[0].launches = code.launches;

  std::mt19937 engine(7);
  std::vector<int64_t> lead = c.padded ? std::vector<int64_t>{batch, longest}
                                       : std::vector<int64_t>{tokens};
  auto shape = [&](int64_t heads) {
    std::vector<int64_t> s = lead;
    s.push_back(heads);
    s.push_back(c.dim);
    return s;
  };
  std::vector<cpu::Tensor> inputs = {randomNormal(c.dtype, shape(c.heads), engine),
                                     randomNormal(c.dtype, shape(c.keyHeads), engine),
                                     randomNormal(c.dtype, shape(c.keyHeads), engine)};
  inputs.push_back(lmc::testing::attentionIndex(c.lengths, c.padded));

  std::vector<cpu::Tensor> expected, got;
  rt::Status failure;
  ASSERT_TRUE(lmc::testing::runOnCpuAndEmulatedGpu(plan, c.arch, inputs, expected, got, failure))
      << failure;
  // The tensor-core kernel rounds P to the input type before P V.
  double bound = c.dtype == rt::DType::F32 ? 1e-5 : c.dtype == rt::DType::F16 ? 2e-3 : 1e-2;
  EXPECT_LE(lmc::testing::relativeL2(got[0], expected[0], "out"), bound);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionEmulation,
    ::testing::Values(
        Case{"packed", rt::DType::F32, 2, 2, 16, false, false, {1, 70, 0, 33, 64, 5}},
        Case{"causal_gqa", rt::DType::F32, 4, 2, 16, true, false, {65, 3, 0, 40}},
        Case{"padded_keys", rt::DType::F32, 2, 1, 32, false, true, {9, 40, 0, 17}},
        Case{"f16_causal", rt::DType::F16, 2, 2, 64, true, false, {31, 96, 2}},
        Case{"tc_f16_packed", rt::DType::F16, 2, 2, 32, false, false, {1, 70, 0, 33, 64, 5}, 80},
        Case{"tc_f16_causal_gqa", rt::DType::F16, 4, 2, 16, true, false, {65, 3, 0, 40}, 80},
        Case{"tc_bf16_padded", rt::DType::BF16, 2, 1, 64, false, true, {9, 40, 0, 17}, 80},
        Case{"tc_f16_d128_causal", rt::DType::F16, 1, 1, 128, true, false, {100, 37}, 80}),
    [](const ::testing::TestParamInfo<Case> &info) { return std::string(info.param.name); });

} // namespace
