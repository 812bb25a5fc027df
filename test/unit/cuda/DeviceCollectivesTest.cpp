// DeviceCollectivesTest.cpp - what a multi-rank CUDA backend decides before
// any collective runs: the GPU each rank takes, and the refusals (the
// collectives themselves run under mpirun: CudaZeroEmulationTest.cpp).

#include "CudaTestSupport.h"
#include "emulator/EmulatedDevice.h"

#include "cuda/CudaBackend.h"
#include "cuda/DeviceCollectives.h"
#include "support/TinyTrainingModel.h"

#include <gtest/gtest.h>

namespace {

namespace rt = ::lmc::rt;

/// Ranks that only exchange host names: rank r shares this process's host
/// when `sharesHost[r]`.
class HostNames final : public rt::Communicator {
public:
  HostNames(int me, std::vector<bool> sharesHost) : me(me), sharesHost(std::move(sharesHost)) {}
  int rank() const override { return me; }
  int size() const override { return int(sharesHost.size()); }
  bool allGatherBytes(const std::vector<uint8_t> &mine, std::vector<std::vector<uint8_t>> &all,
                      rt::Status &) override {
    all.clear();
    for (size_t r = 0; r < sharesHost.size(); ++r)
      all.push_back(sharesHost[r] ? mine : std::vector<uint8_t>{'e', 'l', 's', 'e', uint8_t(r)});
    return true;
  }
  bool allReduceSum(double *, size_t, rt::Status &error) override { return unused(error); }
  bool allReduceSum(float *, size_t, rt::Status &error) override { return unused(error); }
  bool reduceScatterSum(const float *, float *, const std::vector<int> &,
                        rt::Status &error) override {
    return unused(error);
  }
  bool allGather(const float *, float *, const std::vector<int> &, rt::Status &error) override {
    return unused(error);
  }
  void abort() override {}

private:
  static bool unused(rt::Status &error) { return error.fail("not part of this test"); }
  int me;
  std::vector<bool> sharesHost;
};

TEST(ChooseRankDevice, TakesItsPlaceAmongTheRanksOnItsHost) {
  rt::Status error;
  int device = -1;
  HostNames third(3, {true, false, true, true});
  ASSERT_TRUE(lmc::cuda::chooseRankDevice(third, 4, device, error)) << error;
  EXPECT_EQ(device, 2); // ranks 0 and 2 come before it on this host
  HostNames alone(1, {false, true, false});
  ASSERT_TRUE(lmc::cuda::chooseRankDevice(alone, 1, device, error)) << error;
  EXPECT_EQ(device, 0);
}

TEST(ChooseRankDevice, RefusesMoreRanksThanGpusOnAHost) {
  rt::Status error;
  int device = -1;
  HostNames ranks(0, {true, true, true});
  EXPECT_FALSE(lmc::cuda::chooseRankDevice(ranks, 2, device, error));
  EXPECT_NE(error.message().find("3 ranks run on host"), std::string::npos) << error;
  EXPECT_NE(error.message().find("NCCL needs a GPU of its own for each rank"), std::string::npos)
      << error;
}

TEST(CudaBackendRanks, APackageForTwoRanksNeedsTwoRanks) {
  std::string bytes =
      lmc::testing::compileTrainingStepWithCode(lmc::testing::shardedTinyTrainingModel(2, 2));
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> model = rt::Model::fromBytes(bytes, error);
  ASSERT_TRUE(model) << error;
  EXPECT_FALSE(lmc::cuda::CudaBackend::create(model->plan(), error,
                                              lmc::testing::emulatedDriver(75)));
  EXPECT_NE(error.message().find("the package trains over 2 ranks, a GPU each; this process runs 1 "
                                 "(launch it with mpirun -np 2"),
            std::string::npos)
      << error;
}

} // namespace
