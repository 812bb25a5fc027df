// AttentionGradEmulationTest.cpp - lmc.attention_grad's two kernels (dQ,
// then dK and dV) through the CUDA backend on the emulated device, against
// the CPU backend running the same one-kernel plan: packed sequences (empty
// and one-token ones among them, lengths around the tile sizes), causal
// masking and grouped key heads; the plain kernels (f32, and f16 at the
// ranking example's head dim 8) and the tensor-core kernels (sm_80: f16 and
// bf16, head dims 16 to 128), whose source on sm_75 is the plain kernels.

#include "CudaTestSupport.h"
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
  bool causal;
  std::vector<int32_t> lengths;
  int arch = 75; // 80: the tensor-core kernels where the shape takes them
};

/// A plan of one lmc.attention_grad kernel: inputs q, k, v, out, lse,
/// grad_out and cu_seqlens; outputs dq, dk and dv.
rt::Plan attentionGradPlan(const Case &c, int64_t tokens, int64_t longest) {
  rt::Plan plan;
  plan.formatVersion = rt::kFormatVersion;
  plan.name = "attention_grad";
  plan.target = "cuda";
  plan.budget = {int64_t(c.lengths.size()), longest, tokens};
  rt::Kernel kernel =
      lmc::testing::attentionGradKernel(c.dtype, c.heads, c.keyHeads, c.dim, c.causal, 64, 32);
  const char *features[] = {"q", "k", "v", "out", "lse", "grad_out", "index"};
  for (int i = 0; i < 7; ++i) {
    plan.values.push_back({kernel.arguments[size_t(i)], rt::ValueKind::Input, i, -1});
    plan.inputs.push_back({features[i], i == 6 ? rt::Ingest::Lengths : rt::Ingest::Value, i, {}, {}});
  }
  const char *names[] = {"dq", "dk", "dv"};
  for (int r = 0; r < 3; ++r) {
    const rt::TensorType &type = kernel.body[0].results[size_t(r)];
    plan.values.push_back({type, rt::ValueKind::Arena, -1, plan.arenaBytes});
    plan.arenaBytes += rt::bytesUnder(type, plan.budget);
    plan.outputs.push_back({names[r], "", 7 + r});
  }
  plan.kernels = {kernel};
  plan.steps = {{rt::StepKind::Launch, 0, {0, 1, 2, 3, 4, 5, 6}, {7, 8, 9}, {}}};
  return plan;
}

/// The forward's log-sum-exp of every (row, head) for the rounded q and k:
/// with it, P = exp(scale q.k - lse) is each row's softmax, as in training.
cpu::Tensor logSumExp(const Case &c, const cpu::Tensor &q, const cpu::Tensor &k) {
  int64_t tokens = q.shape[0], group = c.heads / c.keyHeads;
  double scale = 1.0 / std::sqrt(double(c.dim));
  cpu::Tensor lse = cpu::Tensor::owned(rt::DType::F32, {tokens, c.heads});
  int64_t start = 0;
  for (int32_t length : c.lengths) {
    for (int64_t i = 0; i < length; ++i)
      for (int64_t h = 0; h < c.heads; ++h) {
        std::vector<double> scores;
        for (int64_t j = 0; j < (c.causal ? i + 1 : length); ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.dim; ++d)
            dot += cpu::realAt(q, ((start + i) * c.heads + h) * c.dim + d) *
                   cpu::realAt(k, ((start + j) * c.keyHeads + h / group) * c.dim + d);
          scores.push_back(scale * dot);
        }
        double top = *std::max_element(scores.begin(), scores.end()), sum = 0;
        for (double score : scores)
          sum += std::exp(score - top);
        lse.as<float>()[(start + i) * c.heads + h] = float(top + std::log(sum));
      }
    start += length;
  }
  return lse;
}

class AttentionGradEmulation : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionGradEmulation, MatchesTheCpuBackend) {
  const Case &c = GetParam();
  int64_t tokens = 0, longest = 0;
  for (int32_t length : c.lengths) {
    tokens += length;
    longest = std::max<int64_t>(longest, length);
  }
  rt::Plan plan = attentionGradPlan(c, tokens, longest);
  mlir::lmc::cuda::EmittedKernel code;
  std::string error;
  ASSERT_TRUE(mlir::lmc::cuda::emitAttentionGradKernel(plan.kernels[0], code, error)) << error;
  bool tensorCores = c.dtype != rt::DType::F32 && c.dim % 16 == 0;
  EXPECT_EQ(code.source.find("mma.sync") != std::string::npos, tensorCores);
  plan.kernels[0].source = code.source;
  plan.kernels[0].launches = code.launches;

  std::mt19937 engine(11);
  std::vector<cpu::Tensor> inputs;
  for (int64_t heads : {c.heads, c.keyHeads, c.keyHeads, c.heads})
    inputs.push_back(randomNormal(c.dtype, {tokens, heads, c.dim}, engine));
  inputs.push_back(logSumExp(c, inputs[0], inputs[1]));
  inputs.push_back(randomNormal(c.dtype, {tokens, c.heads, c.dim}, engine));
  cpu::Tensor cuSeqlens = cpu::Tensor::owned(rt::DType::I32, {int64_t(c.lengths.size()) + 1});
  cuSeqlens.as<int32_t>()[0] = 0;
  for (size_t b = 0; b < c.lengths.size(); ++b)
    cuSeqlens.as<int32_t>()[b + 1] = cuSeqlens.as<int32_t>()[b] + c.lengths[b];
  inputs.push_back(cuSeqlens);

  std::vector<cpu::Tensor> expected, got;
  rt::Status failure;
  ASSERT_TRUE(lmc::testing::runOnCpuAndEmulatedGpu(plan, c.arch, inputs, expected, got, failure))
      << failure;
  // The tensor-core kernels round P and dS to the input type before their
  // products (FlashAttention-2 does too); the CPU keeps them f32.
  double bound = c.dtype == rt::DType::F32 ? 1e-5
                 : c.dtype == rt::DType::BF16 ? 1e-2
                 : tensorCores && c.arch >= 80 ? 1e-3
                                               : 1e-4;
  for (size_t o = 0; o < 3; ++o)
    EXPECT_LE(lmc::testing::relativeL2(got[o], expected[o], plan.outputs[o].name), bound)
        << plan.outputs[o].name;
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionGradEmulation,
    ::testing::Values(
        Case{"plain_f32_causal_gqa", rt::DType::F32, 4, 2, 16, true, {1, 70, 0, 33, 5}},
        Case{"plain_f16_dim8", rt::DType::F16, 4, 4, 8, false, {12, 1, 0, 9}},
        Case{"tc_source_on_sm75", rt::DType::F16, 2, 1, 32, true, {40, 7}},
        Case{"tc_f16_packed", rt::DType::F16, 2, 2, 32, false, {1, 70, 0, 33, 64, 5}, 80},
        Case{"tc_f16_causal_gqa", rt::DType::F16, 4, 2, 16, true, {65, 3, 0, 40}, 80},
        Case{"tc_bf16_causal", rt::DType::BF16, 2, 1, 64, true, {130, 9}, 80},
        Case{"tc_f16_d128_causal", rt::DType::F16, 1, 1, 128, true, {100, 37}, 80}),
    [](const ::testing::TestParamInfo<Case> &info) { return std::string(info.param.name); });

} // namespace
