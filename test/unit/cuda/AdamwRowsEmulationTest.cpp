// AdamwRowsEmulationTest.cpp - lmc.adamw_rows' kernels (copy, chain of
// duplicate ids, row updates) through the CUDA backend on the emulated
// device against the CPU backend running the same one-kernel plan, with
// more ids than one shared-memory tile of the chain holds (256): ids
// repeated within and across tiles, ids outside the table, rows never
// touched; the whole table on one rank, and one rank's shard of two.

#include "CudaTestSupport.h"

#include "compiler/cuda/KernelEmitter.h"

#include "cpu/Tensor.h"

#include <gtest/gtest.h>

#include <random>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

constexpr int64_t kTableRows = 40, kWidth = 3;

struct Case {
  const char *name;
  int64_t ids;      // gradient rows in the step
  int64_t rank = -1; // -1: one rank (the whole table); else this rank of 2
};

/// One optimizer kernel: table (the shard), m, v, ids, rows, step, apply
/// and, on 2 ranks, the rank; results the updated table, m and v.
rt::Plan adamwRowsPlan(const Case &c) {
  int64_t shard = c.rank < 0 ? kTableRows * kWidth : (kTableRows * kWidth + 1) / 2;
  rt::TensorType state{rt::DType::F32, {shard}, {}};
  std::vector<rt::TensorType> arguments = {state,
                                           state,
                                           state,
                                           {rt::DType::I64, {-1}, {}},
                                           {rt::DType::F32, {-1, kWidth}, {}},
                                           {rt::DType::F32, {4}, {}},
                                           {rt::DType::I1, {}, {}}};
  if (c.rank >= 0)
    arguments.push_back({rt::DType::I64, {}, {}});
  int locals = int(arguments.size());
  rt::Plan plan;
  plan.formatVersion = rt::kFormatVersion;
  plan.name = "adamw_rows";
  plan.target = "cuda";
  plan.budget = {1, c.ids, c.ids};
  const char *features[] = {"table", "m", "v", "ids", "rows", "step", "apply", "rank"};
  for (int i = 0; i < locals; ++i) {
    plan.values.push_back({arguments[size_t(i)], rt::ValueKind::Input, i, -1});
    plan.inputs.push_back({features[i], rt::Ingest::Value, i, {}, {}});
  }
  const char *names[] = {"table", "m", "v"};
  for (int r = 0; r < 3; ++r) {
    plan.values.push_back({state, rt::ValueKind::Arena, -1, plan.arenaBytes});
    plan.arenaBytes += rt::bytesUnder(state, plan.budget);
    plan.outputs.push_back({names[r], "", locals + r});
  }
  rt::Kernel kernel;
  kernel.name = "k0";
  kernel.kind = rt::KernelKind::Optimizer;
  kernel.arguments = arguments;
  rt::Instruction update;
  update.opcode = rt::Opcode::AdamwRows;
  update.operands = {0, 1, 2, 3, 4, 5, 6, c.rank < 0 ? -1 : 7};
  update.results = {state, state, state};
  update.ints = {c.rank < 0 ? 1 : 2, kTableRows};
  update.reals = {0.8, 0.95, 1e-6, 0.1};
  kernel.body = {update};
  kernel.yields = {locals, locals + 1, locals + 2};
  plan.kernels = {kernel};
  std::vector<int> operands;
  for (int i = 0; i < locals; ++i)
    operands.push_back(i);
  plan.steps = {{rt::StepKind::Launch, 0, operands, {locals, locals + 1, locals + 2}, {}}};
  return plan;
}

class AdamwRowsEmulation : public ::testing::TestWithParam<Case> {};

TEST_P(AdamwRowsEmulation, MatchesTheCpuBackend) {
  const Case &c = GetParam();
  rt::Plan plan = adamwRowsPlan(c);
  mlir::lmc::cuda::EmittedKernel code;
  std::string error;
  ASSERT_TRUE(mlir::lmc::cuda::emitKernel(plan, plan.kernels[0], code, error)) << error;
  plan.kernels[0].source = code.source;
  plan.kernels[0].launches = code.launches;

  std::mt19937 engine(5);
  int64_t shard = plan.kernels[0].arguments[0].shape[0];
  std::vector<cpu::Tensor> inputs;
  for (int s = 0; s < 3; ++s)
    inputs.push_back(lmc::testing::randomNormal(rt::DType::F32, {shard}, engine));
  for (int64_t i = 0; i < shard; ++i) // the second moment is never negative
    inputs[2].as<float>()[i] = std::abs(inputs[2].as<float>()[i]);
  // Ids from -2 to kTableRows + 1: out-of-table ones at both ends, every row
  // of the table many times over among ~600 ids, a few never.
  cpu::Tensor ids = cpu::Tensor::owned(rt::DType::I64, {c.ids});
  std::uniform_int_distribution<int64_t> id(-2, kTableRows + 1);
  for (int64_t i = 0; i < c.ids; ++i) {
    int64_t drawn = id(engine);
    ids.as<int64_t>()[i] = drawn == 7 || drawn == 30 ? 8 : drawn; // rows 7 and 30 stay untouched
  }
  inputs.push_back(ids);
  inputs.push_back(lmc::testing::randomNormal(rt::DType::F32, {c.ids, kWidth}, engine));
  cpu::Tensor step = cpu::Tensor::owned(rt::DType::F32, {4});
  float stepValues[] = {0.01f, 1.25f, 1.1f, 0.5f};
  std::copy(stepValues, stepValues + 4, step.as<float>());
  inputs.push_back(step);
  cpu::Tensor apply = cpu::Tensor::owned(rt::DType::I1, {});
  apply.as<uint8_t>()[0] = 1;
  inputs.push_back(apply);
  if (c.rank >= 0) {
    cpu::Tensor rank = cpu::Tensor::owned(rt::DType::I64, {});
    rank.as<int64_t>()[0] = c.rank;
    inputs.push_back(rank);
  }

  std::vector<cpu::Tensor> expected, got;
  rt::Status failure;
  ASSERT_TRUE(lmc::testing::runOnCpuAndEmulatedGpu(plan, 75, inputs, expected, got, failure))
      << failure;
  // The CPU sums an id's rows in f64, the GPU in f32, in the same order.
  for (size_t o = 0; o < 3; ++o)
    EXPECT_LE(lmc::testing::relativeL2(got[o], expected[o], plan.outputs[o].name), 1e-6)
        << plan.outputs[o].name;
  // Untouched rows keep their values exactly.
  int64_t begin = c.rank < 0 ? 0 : c.rank * shard;
  for (int64_t row : {7, 30})
    for (int64_t d = 0; d < kWidth; ++d) {
      int64_t at = row * kWidth + d - begin;
      if (at >= 0 && at < shard)
        EXPECT_EQ(got[0].as<float>()[at], inputs[0].as<float>()[at]) << "row " << row;
    }
}

INSTANTIATE_TEST_SUITE_P(Steps, AdamwRowsEmulation,
                         ::testing::Values(Case{"one_tile", 200}, Case{"three_tiles", 600},
                                           Case{"shard_of_rank_1", 600, 1}),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
