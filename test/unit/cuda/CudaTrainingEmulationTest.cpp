// CudaTrainingEmulationTest.cpp - training on the CUDA backend of an
// emulated device, against the CPU backend: the ranking example's loss and
// gradients (forward, loss, backward with lmc.attention_grad's two kernels
// and the log-sum-exp the forward writes; compiled without the optimizer)
// in f32, and in f16 with a head dim the tensor-core kernels take; and
// whole optimizer steps of a tiny model (the dense AdamW fused into the
// step's kernels, lmc.adamw_rows' kernels), every weight and moment.

#include "CudaTestSupport.h"

#include "session/Model.h"
#include "support/RandomExamples.h"
#include "support/TinyTrainingModel.h"
#include "train/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;

/// Runs one batch of `bytes` (a training step compiled without its
/// optimizer: loss and gradients) on the CPU backend and on an emulated GPU
/// of compute capability `arch`, and expects every output within `bound`
/// relative L2.
void expectGradientsMatch(const std::string &bytes, int arch, double bound) {
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, arch, onCpu, onGpu, error)) << error;
  for (rt::Model *model : {onCpu.get(), onGpu.get()}) {
    std::vector<std::pair<std::string, cpu::Tensor>> weights;
    ASSERT_TRUE(model->generateWeights(5, weights, error)) << error;
    ASSERT_TRUE(model->setWeights({weights.begin(), weights.end()}, error)) << error;
  }

  std::vector<rt::Example> examples = lmc::testing::randomExamples(onCpu->plan(), 6, 10, 9);
  std::vector<rt::PackedBatch> batches;
  rt::PackingOptions packing;
  ASSERT_TRUE(rt::packExamples(onCpu->plan(), examples, packing, batches, error)) << error;
  std::vector<cpu::Tensor> expected, got;
  ASSERT_TRUE(onCpu->runBatch(batches[0], expected, error)) << error;
  ASSERT_TRUE(onGpu->runBatch(batches[0], got, error)) << error;
  ASSERT_EQ(got.size(), expected.size());
  const rt::Plan &plan = onCpu->plan();
  for (size_t o = 0; o < expected.size(); ++o) {
    const std::string &name = plan.outputs[o].name;
    ASSERT_EQ(got[o].shape, expected[o].shape) << name;
    double difference = 0, norm = 0;
    for (int64_t i = 0; i < expected[o].numElements(); ++i) {
      double a = cpu::realAt(got[o], i), b = cpu::realAt(expected[o], i);
      ASSERT_FALSE(std::isnan(a)) << name << " element " << i << " was never written";
      difference += (a - b) * (a - b);
      norm += b * b;
    }
    EXPECT_LE(std::sqrt(difference), bound * std::sqrt(norm) + 1e-6) << name;
  }
}

/// The ranking example's training step without its optimizer, for small
/// batches.
mlir::lmc::CompileOptions gradientsOnly(mlir::lmc::Precision precision) {
  mlir::lmc::CompileOptions options;
  options.train = true;
  options.optimizer = false;
  options.precision = precision;
  options.maxBatch = 6;
  options.maxSequence = 12;
  options.maxTokens = 72;
  return options;
}

TEST(CudaTrainingEmulation, StepMatchesTheCpuBackend) {
  expectGradientsMatch(lmc::testing::compilePackageWithCode(
                           "bst_ranker.yaml", gradientsOnly(mlir::lmc::Precision::FP32)),
                       75, 1e-4);
}

TEST(CudaTrainingEmulation, F16StepOnTensorCoresMatchesTheCpuBackend) {
  // Head dim 16 (the example's 8 has no tensor-core form; its plain f16
  // kernels are AttentionGradEmulation's) on sm_80: attention forward and
  // backward run on tensor cores, whose P and dS are rounded to f16 where
  // the CPU keeps f32; the f16 step's sums also run in another order.
  std::string bytes = lmc::testing::compileExampleVariantWithCode(
      "bst_ranker.yaml", "head_dim: 8", "head_dim: 16", gradientsOnly(mlir::lmc::Precision::FP16));
  expectGradientsMatch(bytes, 80, 3e-3);
}

/// The tiny model's training step (with its optimizer) on the CPU and on
/// the emulated GPU.
void loadTinyTrainingStep(std::unique_ptr<rt::Model> &onCpu, std::unique_ptr<rt::Model> &onGpu) {
  std::string bytes =
      lmc::testing::compileTrainingStepWithCode(lmc::testing::kTinyTrainingModel);
  ASSERT_FALSE(bytes.empty());
  rt::Status error;
  ASSERT_TRUE(lmc::testing::loadOnCpuAndEmulatedGpu(bytes, 75, onCpu, onGpu, error)) << error;
}

TEST(CudaTrainingEmulation, OptimizerStepsMatchTheCpuBackend) {
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_NO_FATAL_FAILURE(loadTinyTrainingStep(onCpu, onGpu));
  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  lmc::testing::trainBothAndCompare(*onCpu, *onGpu, *alone, lmc::testing::tinyTrainingExamples(),
                                    3);
}

TEST(CudaTrainingEmulation, WeightAndMomentsUpdateInOneEntryPoint) {
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_NO_FATAL_FAILURE(loadTinyTrainingStep(onCpu, onGpu));
  const rt::Plan &plan = onGpu->plan();
  // The kernel-local values of w's update and of its two moments'.
  std::vector<int> locals;
  const rt::Kernel *kernel = nullptr;
  for (const char *name : {"update:w", "update:w.adam_m", "update:w.adam_v"})
    for (const rt::Output &output : plan.outputs)
      if (output.name == name)
        for (const rt::Step &step : plan.steps)
          for (size_t y = 0; y < step.results.size(); ++y)
            if (step.results[y] == output.value) {
              kernel = &plan.kernels[size_t(step.kernel)];
              locals.push_back(kernel->yields[y]);
            }
  ASSERT_EQ(locals.size(), 3u);
  // One launch writes all three: [4, 3] and the flat [12] moments share an
  // index, and the new moments the update reads come from registers.
  int writers = 0;
  for (const rt::Launch &launch : kernel->launches)
    writers += std::count(locals.begin(), locals.end(), launch.value);
  EXPECT_EQ(writers, 1);
  for (int local : locals)
    EXPECT_NE(kernel->source.find("\n    float *__restrict__ p" + std::to_string(local)),
              std::string::npos)
        << "no entry point writes %" << local << "\n" << kernel->source;
}

TEST(CudaTrainingEmulation, UpdatesStayOnTheDeviceUntilAsked) {
  std::unique_ptr<rt::Model> onCpu, onGpu;
  ASSERT_NO_FATAL_FAILURE(loadTinyTrainingStep(onCpu, onGpu));
  rt::Status error;
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  ASSERT_TRUE(onGpu->generateWeights(3, weights, error)) << error;
  ASSERT_TRUE(onGpu->setWeights({weights.begin(), weights.end()}, error)) << error;
  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  std::unique_ptr<rt::Trainer> trainer = rt::Trainer::create(*onGpu, *alone, error);
  ASSERT_TRUE(trainer) << error;
  auto hostValues = [&] {
    std::vector<std::vector<double>> values;
    for (const cpu::Tensor &tensor : onGpu->parameterTensors()) {
      values.emplace_back();
      for (int64_t i = 0; i < tensor.numElements(); ++i)
        values.back().push_back(cpu::realAt(tensor, i));
    }
    return values;
  };
  std::vector<std::vector<double>> before = hostValues();
  std::vector<rt::PackedBatch> batches;
  ASSERT_TRUE(rt::packExamples(onGpu->plan(), lmc::testing::tinyTrainingExamples(), {}, batches,
                               error))
      << error;
  rt::StepReport report;
  ASSERT_TRUE(trainer->step(batches[0], report, error)) << error;
  EXPECT_EQ(hostValues(), before) << "a step copied its updates to the host";
  ASSERT_TRUE(onGpu->syncParameters(error)) << error;
  std::vector<std::vector<double>> after = hostValues();
  for (size_t p = 0; p < after.size(); ++p)
    EXPECT_NE(after[p], before[p]) << onGpu->plan().parameters[p].name << " was not updated";
  // The next step starts from the device's values, not a new upload.
  ASSERT_TRUE(trainer->step(batches[0], report, error)) << error;
  ASSERT_TRUE(onGpu->syncParameters(error)) << error;
  EXPECT_NE(hostValues(), after);
}

} // namespace
