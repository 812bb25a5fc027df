// CpuAttentionTest.cpp - the CPU backend's attention kernel against a
// float64 reference written here, with every copy of its tiles the
// processor runs: the register-blocked tiles for AVX-512 and AVX2 (head
// dims a multiple of 16) and the BLAS tiles (other head dims, and the
// baseline). Lengths sit around the CPU's tile sizes (64 query rows, key
// blocks of 256), with empty and one-token sequences, causal masking,
// grouped key heads and a padded batch with key lengths.

#include "cpu/CpuBackend.h"
#include "cpu/CpuFeatures.h"
#include "support/AttentionInputs.h"
#include "support/AttentionKernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

struct Case {
  const char *name;
  int64_t heads, keyHeads, dim;
  bool causal, padded;
  std::vector<int32_t> lengths;
};

rt::Plan attentionPlan(const Case &c) {
  rt::Plan plan;
  plan.formatVersion = rt::kFormatVersion;
  plan.name = "attention";
  plan.target = "cpu";
  plan.budget = {1, 1, 1};
  rt::Kernel kernel = lmc::testing::attentionKernel(rt::DType::F32, c.heads, c.keyHeads, c.dim,
                                                    c.causal, c.padded, 64, 32);
  const char *features[] = {"q", "k", "v", "index"};
  for (int i = 0; i < 4; ++i) {
    plan.values.push_back({kernel.arguments[size_t(i)], rt::ValueKind::Input, i, -1});
    plan.inputs.push_back(
        {features[i], i == 3 ? rt::Ingest::Lengths : rt::Ingest::Value, i, {}, {}});
  }
  // A result beyond its (zero-byte) arena slot gets a buffer of its own.
  plan.values.push_back({kernel.body[0].results[0], rt::ValueKind::Arena, -1, 0});
  plan.kernels = {kernel};
  plan.steps = {{rt::StepKind::Launch, 0, {0, 1, 2, 3}, {4}, {}}};
  plan.outputs = {{"out", "", 4}};
  return plan;
}

/// softmax(q k^T / sqrt(dim)) v in float64, row by row.
std::vector<double> reference(const Case &c, const std::vector<cpu::Tensor> &in) {
  const float *q = in[0].as<float>(), *k = in[1].as<float>(), *v = in[2].as<float>();
  int64_t batch = int64_t(c.lengths.size()), longest = 0;
  for (int32_t length : c.lengths)
    longest = std::max<int64_t>(longest, length);
  std::vector<double> out(size_t(in[0].numElements()), 0.0);
  int64_t group = c.heads / c.keyHeads, offset = 0;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = c.lengths[size_t(b)];
    int64_t base = c.padded ? b * longest : offset, queries = c.padded ? longest : length;
    offset += length;
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < queries; ++i) {
        int64_t keys = c.causal ? std::min(length, i + 1) : length;
        std::vector<double> scores(static_cast<size_t>(keys));
        double top = -INFINITY, sum = 0;
        for (int64_t j = 0; j < keys; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < c.dim; ++d)
            dot += double(q[((base + i) * c.heads + h) * c.dim + d]) *
                   k[((base + j) * c.keyHeads + h / group) * c.dim + d];
          scores[size_t(j)] = dot / std::sqrt(double(c.dim));
          top = std::max(top, scores[size_t(j)]);
        }
        for (double &score : scores)
          sum += (score = std::exp(score - top));
        for (int64_t j = 0; j < keys; ++j)
          for (int64_t d = 0; d < c.dim; ++d)
            out[size_t(((base + i) * c.heads + h) * c.dim + d)] +=
                scores[size_t(j)] / sum * v[((base + j) * c.keyHeads + h / group) * c.dim + d];
      }
  }
  return out;
}

std::string testName(const ::testing::TestParamInfo<std::tuple<Case, cpu::Isa>> &info) {
  cpu::Isa isa = std::get<1>(info.param);
  return std::string(std::get<0>(info.param).name) + (isa == cpu::Isa::Avx512 ? "_avx512"
                                                      : isa == cpu::Isa::Avx2 ? "_avx2"
                                                                              : "_baseline");
}

class CpuAttention : public ::testing::TestWithParam<std::tuple<Case, cpu::Isa>> {};

TEST_P(CpuAttention, MatchesTheFloat64Reference) {
  const Case &c = std::get<0>(GetParam());
  cpu::Isa isa = std::get<1>(GetParam());
  // On a processor without `isa` this checks the best copy it has.
  cpu::IsaCap cap(isa);
  SCOPED_TRACE(std::string("tiles for ") + cpu::isaName(cpu::cpuIsa()));
  int64_t batch = int64_t(c.lengths.size()), longest = 0, tokens = 0;
  for (int32_t length : c.lengths) {
    longest = std::max<int64_t>(longest, length);
    tokens += length;
  }
  std::mt19937 engine(11);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  auto tensor = [&](int64_t heads) {
    std::vector<int64_t> shape = c.padded ? std::vector<int64_t>{batch, longest, heads, c.dim}
                                          : std::vector<int64_t>{tokens, heads, c.dim};
    cpu::Tensor t = cpu::Tensor::owned(rt::DType::F32, shape);
    for (int64_t e = 0; e < t.numElements(); ++e)
      t.as<float>()[e] = normal(engine);
    return t;
  };
  std::vector<cpu::Tensor> inputs = {tensor(c.heads), tensor(c.keyHeads), tensor(c.keyHeads)};
  inputs.push_back(lmc::testing::attentionIndex(c.lengths, c.padded));

  rt::Plan plan = attentionPlan(c);
  cpu::CpuBackend backend(plan);
  std::vector<cpu::Tensor> outputs;
  rt::Status error;
  ASSERT_TRUE(backend.run(inputs, {}, outputs, error)) << error;
  std::vector<double> want = reference(c, inputs);
  ASSERT_EQ(outputs[0].numElements(), int64_t(want.size()));
  double squared = 0, norm = 0;
  for (size_t e = 0; e < want.size(); ++e) {
    double got = outputs[0].as<float>()[e];
    squared += (got - want[e]) * (got - want[e]);
    norm += want[e] * want[e];
  }
  // f32 products and sums of a few hundred terms.
  EXPECT_LT(std::sqrt(squared / norm), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuAttention,
    ::testing::Combine(
        ::testing::Values(Case{"packed", 2, 2, 64, false, false, {1, 300, 0, 65, 256, 257, 64, 5}},
                          Case{"causal_gqa", 4, 2, 64, true, false, {513, 3, 0, 129}},
                          Case{"dim_80", 2, 1, 80, true, false, {270, 17}},
                          Case{"dim_16", 3, 3, 16, false, false, {40, 1, 300}},
                          Case{"dim_24_blas", 2, 2, 24, true, false, {200, 9}},
                          Case{"padded_keys", 2, 1, 32, false, true, {9, 300, 0, 17}}),
        ::testing::Values(cpu::Isa::Avx512, cpu::Isa::Avx2, cpu::Isa::Baseline)),
    testName);

} // namespace
