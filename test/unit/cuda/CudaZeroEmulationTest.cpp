// CudaZeroEmulationTest.cpp - sharded training on the CUDA backend, run
// under `mpirun -np 2`: each rank trains on an emulated GPU of its own with
// the step's collectives over the emulated NCCL (carried over MPI), and on
// the CPU backend beside it; after three optimizer steps every weight
// shard and moment this rank stores must match the CPU's, at ZeRO stages
// 0 to 3. The backend runs its collectives on a second stream: each stage
// runs twice, once with the emulated compute stream running ahead of the
// collectives' stream and once behind it (EmulatedStreams.h), so a
// missing wait either way gives wrong values. The CPU backend's sharded steps are checked against one rank by
// the lit test lmc-train-zero.test.

#include "CudaTestSupport.h"
#include "emulator/EmulatedDevice.h"
#include "emulator/EmulatedStreams.h"

#include "collectives/MpiCommunicator.h"
#include "support/TinyTrainingModel.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <tuple>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

rt::Communicator *world = nullptr;

using lmc::testing::streams::Schedule;

class CudaZeroEmulation : public ::testing::TestWithParam<std::tuple<int, Schedule>> {};

TEST_P(CudaZeroEmulation, EveryRanksStateMatchesTheCpuBackend) {
  auto [stage, schedule] = GetParam();
  lmc::testing::streams::setSchedule(schedule);
  std::string bytes = lmc::testing::compileTrainingStepWithCode(
      lmc::testing::shardedTinyTrainingModel(stage, world->size()));
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, 75, onCpu, onGpu, error, world))
      << error;
  EXPECT_EQ(lmc::testing::emulatorCounts().device, world->rank()) << "a GPU per rank";
  // Rank r trains on examples r, r + ranks, ... (as lmc train shares a batch).
  std::vector<rt::Example> all = lmc::testing::tinyTrainingExamples(), mine;
  for (size_t e = size_t(world->rank()); e < all.size(); e += size_t(world->size()))
    mine.push_back(all[e]);
  lmc::testing::trainBothAndCompare(*onCpu, *onGpu, *world, mine, 3);
}

INSTANTIATE_TEST_SUITE_P(
    Stages, CudaZeroEmulation,
    ::testing::Combine(::testing::Values(0, 1, 2, 3),
                       ::testing::Values(Schedule::Lazy, Schedule::LaterStreamsEager)),
    [](const ::testing::TestParamInfo<std::tuple<int, Schedule>> &info) {
      return "stage" + std::to_string(std::get<0>(info.param)) +
             (std::get<1>(info.param) == Schedule::Lazy ? "_computeAhead" : "_collectivesAhead");
    });

} // namespace

/// Runs every test on every rank; the process fails when any rank's did.
int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  rt::Status error;
  std::unique_ptr<rt::Communicator> ranks = rt::mpiWorld(error);
  if (!ranks) {
    std::fprintf(stderr, "MPI: %s\n", error.message().c_str());
    return 1;
  }
  if (ranks->size() < 2) {
    std::fprintf(stderr, "run it under mpirun -np 2 (or more)\n");
    return 1;
  }
  world = ranks.get();
  double failed = RUN_ALL_TESTS() != 0;
  if (!ranks->allReduceSum(&failed, 1, error)) {
    std::fprintf(stderr, "MPI: %s\n", error.message().c_str());
    return 1;
  }
  return failed != 0;
}
