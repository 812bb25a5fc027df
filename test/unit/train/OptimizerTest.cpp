// OptimizerTest.cpp - AdamW, the loss scaler and the learning-rate schedule
// against their definitions (PyTorch's AdamW and GradScaler).

#include "train/AdamW.h"
#include "train/LossScaler.h"
#include "train/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lmc::rt {
namespace {

cpu::Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  cpu::Tensor tensor = cpu::Tensor::owned(DType::F32, std::move(shape));
  std::copy(values.begin(), values.end(), tensor.as<float>());
  return tensor;
}

// torch.optim.AdamW for one element, in double.
struct ReferenceAdamW {
  double p, m = 0, v = 0;
  void step(int t, double g, double lr, const AdamWSettings &s) {
    p -= lr * s.weightDecay * p;
    m = s.beta1 * m + (1 - s.beta1) * g;
    v = s.beta2 * v + (1 - s.beta2) * g * g;
    double mHat = m / (1 - std::pow(s.beta1, t)), vHat = v / (1 - std::pow(s.beta2, t));
    p -= lr * mHat / (std::sqrt(vHat) + s.epsilon);
  }
};

TEST(AdamW, DenseUpdatesFollowTorchAdamW) {
  AdamWSettings settings{0.9, 0.99, 1e-6, 0.1};
  std::vector<cpu::Tensor> parameters{floats({3}, {0.5f, -1.0f, 2.0f})};
  AdamW optimizer(settings, {{0, 3}});
  std::vector<ReferenceAdamW> reference{{0.5}, {-1.0}, {2.0}};
  const float scale = 1024;
  for (int t = 1; t <= 3; ++t) {
    std::vector<float> g{0.1f * t, -0.3f, 0.02f};
    cpu::Tensor scaled = floats({3}, {g[0] * scale, g[1] * scale, g[2] * scale});
    optimizer.beginStep(t, 0.01 * t);
    optimizer.applyDense(0, parameters[0].as<float>(), scaled.as<float>(), 1 / scale);
    for (size_t i = 0; i < 3; ++i)
      reference[i].step(t, g[i], 0.01 * t, settings);
  }
  for (size_t i = 0; i < 3; ++i)
    EXPECT_NEAR(parameters[0].as<float>()[i], reference[i].p, 1e-6) << i;
}

TEST(AdamW, RowUpdatesTouchOnlyTheGatheredRowsOnce) {
  AdamWSettings settings;
  std::vector<cpu::Tensor> parameters{floats({4, 2}, {1, 1, 2, 2, 3, 3, 4, 4})};
  AdamW optimizer(settings, {{0, 8}});
  // Row 2 appears twice (summed first, across parts too), -1 and 9 are
  // outside the table.
  RowGradient first{{2, -1}, {0.5f, 1.0f, 7.0f, 7.0f}};
  RowGradient second{{2, 9}, {0.25f, -1.0f, 7.0f, 7.0f}};
  optimizer.beginStep(1, 0.1);
  optimizer.applyRows(0, parameters[0].as<float>(), 4, 2, {first, second}, 1.0f);
  const float *table = parameters[0].as<float>();
  for (int row : {0, 1, 3})
    EXPECT_EQ(table[row * 2], float(row + 1)) << "row " << row << " was not gathered";
  ReferenceAdamW left{3.0}, right{3.0};
  left.step(1, 0.75, 0.1, settings);
  right.step(1, 0.0, 0.1, settings);
  EXPECT_NEAR(table[4], left.p, 1e-6);
  EXPECT_NEAR(table[5], right.p, 1e-6);
}

TEST(AdamW, AShardUpdatesAndKeepsStateForItsRangeOnly) {
  AdamWSettings settings;
  std::vector<cpu::Tensor> parameters{floats({4, 2}, {1, 1, 2, 2, 3, 3, 4, 4})};
  AdamW optimizer(settings, {{3, 6}}); // elements 3..5: half of row 1, row 2
  EXPECT_EQ(optimizer.stateBytes(), 2 * 3 * 4);
  RowGradient rows{{1, 2, 3}, {1, 1, 1, 1, 1, 1}};
  optimizer.beginStep(1, 0.1);
  optimizer.applyRows(0, parameters[0].as<float>(), 4, 2, {rows}, 1.0f);
  const float *table = parameters[0].as<float>();
  EXPECT_EQ(table[2], 2.0f); // row 1's first element belongs to another rank
  EXPECT_NE(table[3], 2.0f);
  EXPECT_NE(table[4], 3.0f);
  EXPECT_NE(table[5], 3.0f);
  EXPECT_EQ(table[6], 4.0f); // row 3 too
}

TEST(ZeroStateBytes, FollowZeroFormulas) {
  const int64_t psi = 1000;
  const int ranks = 4;
  EXPECT_EQ(zeroStateBytes(psi, 0, ranks).total(), 16 * psi);
  EXPECT_EQ(zeroStateBytes(psi, 1, ranks).total(), 4 * psi + 12 * psi / ranks);
  EXPECT_EQ(zeroStateBytes(psi, 2, ranks).total(), 2 * psi + 14 * psi / ranks);
  EXPECT_EQ(zeroStateBytes(psi, 3, ranks).total(), 16 * psi / ranks);
}

TEST(LossScaler, BacksOffOnOverflowAndGrowsAfter2000CleanSteps) {
  LossScaler scaler(/*dynamic=*/true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 32768.0);
  for (int i = 0; i < 1999; ++i)
    scaler.update(true);
  EXPECT_EQ(scaler.scale(), 32768.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  LossScaler fixed(/*dynamic=*/false);
  fixed.update(false);
  EXPECT_EQ(fixed.scale(), 1.0);
}

TEST(LearningRate, SchedulesWarmUpAndDecay) {
  Training training;
  training.learningRate = 0.1;
  EXPECT_DOUBLE_EQ(scheduledLearningRate(training, 50), 0.1);
  training.schedule = "linear_warmup";
  training.warmupSteps = 4;
  EXPECT_DOUBLE_EQ(scheduledLearningRate(training, 0), 0.025);
  EXPECT_DOUBLE_EQ(scheduledLearningRate(training, 3), 0.1);
  EXPECT_DOUBLE_EQ(scheduledLearningRate(training, 10), 0.1);
  training.schedule = "cosine";
  training.totalSteps = 14;
  EXPECT_DOUBLE_EQ(scheduledLearningRate(training, 4), 0.1);
  EXPECT_NEAR(scheduledLearningRate(training, 9), 0.05, 1e-12);
  EXPECT_NEAR(scheduledLearningRate(training, 14), 0.0, 1e-12);
  EXPECT_NEAR(scheduledLearningRate(training, 20), 0.0, 1e-12);
}

} // namespace
} // namespace lmc::rt
