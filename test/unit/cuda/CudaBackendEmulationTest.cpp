// CudaBackendEmulationTest.cpp - the CUDA backend, with the kernels lmc
// emits, against the CPU backend on an emulated device (EmulatedDevice.h):
// host shapes, arena and scratch placement, launch arguments, grids, the
// attention tile list, cuBLASLt calls and every fused kernel's CUDA C run
// for real, with packed and padded variable-length batches; attention in its
// plain form (the emulator reporting sm_75) and, in one case, its
// tensor-core form (sm_80).

#include "CudaTestSupport.h"
#include "emulator/EmulatedDevice.h"

#include "session/Model.h"
#include "support/RandomExamples.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

double relativeL2(const cpu::Tensor &got, const cpu::Tensor &expected) {
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < expected.numElements(); ++i) {
    double a = cpu::realAt(got, i), b = cpu::realAt(expected, i);
    difference += (a - b) * (a - b);
    norm += b * b;
  }
  return std::sqrt(difference / std::max(norm, 1e-30));
}

struct Case {
  const char *example;
  mlir::lmc::Precision precision;
  bool packing;
  double bound;
  int arch = 75; // 80: attention in its tensor-core form
};

class CudaBackendEmulation : public ::testing::TestWithParam<Case> {};

TEST_P(CudaBackendEmulation, MatchesTheCpuBackend) {
  const Case &param = GetParam();
  mlir::lmc::CompileOptions options;
  options.precision = param.precision;
  options.packing = param.packing;
  // A small plan: several batches, short sequences (the emulator is slow).
  options.maxBatch = 8;
  options.maxSequence = 24;
  options.maxTokens = 96;
  std::string bytes = lmc::testing::compilePackageWithCode(param.example, options);
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, param.arch, onCpu, onGpu, error))
      << error;
  EXPECT_EQ(onGpu->currentBackend().label(),
            "the GPU (lmc device emulator, sm_" + std::to_string(param.arch) + ")");

  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  ASSERT_TRUE(onCpu->generateWeights(3, weights, error)) << error;
  ASSERT_TRUE(onCpu->setWeights({weights.begin(), weights.end()}, error)) << error;
  ASSERT_TRUE(onGpu->setWeights({weights.begin(), weights.end()}, error)) << error;
  std::vector<rt::Example> examples = lmc::testing::randomExamples(onCpu->plan(), 11, 20, 5);
  rt::PackingOptions packing;
  std::vector<rt::ExampleOutputs> expected, got;
  rt::RunStatistics statistics;
  ASSERT_TRUE(onCpu->run(examples, packing, expected, statistics, error)) << error;
  int launchesBefore = lmc::testing::emulatorCounts().launches;
  ASSERT_TRUE(onGpu->run(examples, packing, got, statistics, error)) << error;
  EXPECT_GT(statistics.batches, 1u);
  EXPECT_GT(lmc::testing::emulatorCounts().launches, launchesBefore);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t e = 0; e < expected.size(); ++e)
    for (size_t o = 0; o < expected[e].outputs.size(); ++o) {
      const cpu::Tensor &x = got[e].outputs[o], &y = expected[e].outputs[o];
      ASSERT_EQ(x.shape, y.shape) << "example " << e << " output " << o;
      for (int64_t i = 0; i < x.numElements(); ++i)
        ASSERT_FALSE(std::isnan(cpu::realAt(x, i))) << "example " << e << " element " << i
                                                    << " was never written";
      EXPECT_LE(relativeL2(x, y), param.bound) << "example " << e << " output " << o;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, CudaBackendEmulation,
    ::testing::Values(Case{"bst_ranker.yaml", mlir::lmc::Precision::FP32, true, 1e-5},
                      Case{"bst_ranker.yaml", mlir::lmc::Precision::FP16, true, 3e-3},
                      Case{"bst_ranker.yaml", mlir::lmc::Precision::BF16, false, 2e-2},
                      Case{"text_encoder.yaml", mlir::lmc::Precision::FP32, false, 1e-5},
                      Case{"text_encoder.yaml", mlir::lmc::Precision::FP16, true, 3e-3},
                      Case{"ranker.mlir", mlir::lmc::Precision::FP32, true, 1e-5},
                      Case{"text_encoder.yaml", mlir::lmc::Precision::BF16, true, 2e-2, 80}));

// A CUDA failure reaches the C API with the code of its kind: out of
// memory, a device that is not there, or lmc's own failure.
TEST(DriverStatus, CudaErrorsKeepTheirKind) {
  const lmc::cuda::Driver *driver = lmc::testing::emulatedDriver();
  rt::Status memory, device, other;
  EXPECT_FALSE(driver->check(CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc", memory));
  EXPECT_EQ(memory.code(), LMC_STATUS_OUT_OF_MEMORY) << memory;
  EXPECT_FALSE(driver->check(CUDA_ERROR_NO_DEVICE, "cuDeviceGet", device));
  EXPECT_EQ(device.code(), LMC_STATUS_UNAVAILABLE) << device;
  EXPECT_FALSE(driver->check(CUDA_ERROR_ILLEGAL_ADDRESS, "cuStreamSynchronize", other));
  EXPECT_EQ(other.code(), LMC_STATUS_INTERNAL) << other;
  EXPECT_NE(other.message().find("cuStreamSynchronize"), std::string::npos) << other;
}

} // namespace
