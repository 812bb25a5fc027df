// OptimizerTest.cpp - the AdamW update lmc-shard-state compiles into a
// training step, the loss scaler and the learning-rate schedule, against
// their definitions (PyTorch's AdamW, SparseAdam's lazy rows, GradScaler).

#include "session/Model.h"
#include "train/LossScaler.h"
#include "train/Trainer.h"

#include "BackendTestSupport.h"
#include "support/TinyTrainingModel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace lmc::rt {
namespace {

using testing::kTinyBeta1;
using testing::kTinyBeta2;
using testing::kTinyEpsilon;
using testing::kTinyRate;
using testing::kTinyWeightDecay;

// torch.optim.AdamW for one element, in double.
struct ReferenceAdamW {
  double p, m = 0, v = 0;
  void step(int t, double g) {
    p -= kTinyRate * kTinyWeightDecay * p;
    m = kTinyBeta1 * m + (1 - kTinyBeta1) * g;
    v = kTinyBeta2 * v + (1 - kTinyBeta2) * g * g;
    double mHat = m / (1 - std::pow(kTinyBeta1, t)), vHat = v / (1 - std::pow(kTinyBeta2, t));
    p -= kTinyRate * mHat / (std::sqrt(vHat) + kTinyEpsilon);
  }
};

std::unique_ptr<Model> compiled(bool optimizer) {
  mlir::lmc::CompileOptions options;
  options.train = true;
  options.optimizer = optimizer;
  options.maxBatch = 8;
  options.maxTokens = 64;
  std::string bytes = testing::compileSource(testing::kTinyTrainingModel, options);
  EXPECT_FALSE(bytes.empty());
  Status status;
  std::unique_ptr<Model> model = Model::fromBytes(bytes, status);
  EXPECT_TRUE(model) << status;
  return model;
}

const cpu::Tensor &named(Model &model, const std::string &name) {
  const Plan &plan = model.plan();
  for (size_t p = 0; p < plan.parameters.size(); ++p)
    if (plan.parameters[p].name == name)
      return model.parameterTensors()[p];
  ADD_FAILURE() << "no parameter " << name;
  return model.parameterTensors()[0];
}

TEST(CompiledAdamW, DenseAndLazyRowUpdatesFollowTheirDefinitions) {
  std::unique_ptr<Model> gradients = compiled(false), step = compiled(true);
  ASSERT_TRUE(gradients && step);
  ::lmc::rt::Status error;
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  ASSERT_TRUE(step->generateWeights(11, weights, error)) << error;
  ASSERT_TRUE(step->setWeights({weights.begin(), weights.end()}, error)) << error;
  std::map<std::string, std::vector<ReferenceAdamW>> reference;
  for (const std::string name : {"w", "table"}) {
    const cpu::Tensor &value = named(*step, name);
    for (int64_t i = 0; i < value.numElements(); ++i)
      reference[name].push_back({value.as<float>()[i]});
  }
  std::unique_ptr<Communicator> alone = singleRank();
  std::unique_ptr<Trainer> trainer = Trainer::create(*step, *alone, error);
  ASSERT_TRUE(trainer) << error;
  std::vector<Example> batch = testing::tinyTrainingExamples();
  PackingOptions packing;

  for (int t = 1; t <= 3; ++t) {
    // The gradients at the current weights, from the step without optimizer.
    std::map<std::string, cpu::Tensor> current;
    for (auto &[name, values] : reference) {
      cpu::Tensor copy = cpu::Tensor::owned(DType::F32, named(*step, name).shape);
      std::copy(named(*step, name).as<float>(),
                named(*step, name).as<float>() + copy.numElements(), copy.as<float>());
      current[name] = copy;
    }
    ASSERT_TRUE(gradients->setWeights(current, error)) << error;
    std::vector<PackedBatch> packed;
    ASSERT_TRUE(packExamples(gradients->plan(), batch, packing, packed, error)) << error;
    std::vector<cpu::Tensor> outputs;
    ASSERT_TRUE(gradients->runBatch(packed[0], outputs, error)) << error;
    std::map<std::string, const cpu::Tensor *> byName;
    for (size_t o = 0; o < outputs.size(); ++o)
      byName[gradients->plan().outputs[o].name] = &outputs[o];
    const cpu::Tensor &dense = *byName.at("gradient:w");
    for (size_t i = 0; i < reference["w"].size(); ++i)
      reference["w"][i].step(t, dense.as<float>()[i]);
    // Lazy rows: duplicates summed, each touched row updated once.
    const cpu::Tensor &ids = *byName.at("gradient:table:indices");
    const cpu::Tensor &rows = *byName.at("gradient:table:rows");
    std::map<int64_t, std::vector<double>> summed;
    for (int64_t k = 0; k < ids.numElements(); ++k) {
      int64_t id = cpu::integerAt(ids, k);
      if (id < 0 || id >= testing::kTinyTableRows)
        continue;
      summed[id].resize(3, 0.0);
      for (int d = 0; d < 3; ++d)
        summed[id][size_t(d)] += rows.as<float>()[k * 3 + d];
    }
    for (auto &[id, gradient] : summed)
      for (int d = 0; d < 3; ++d)
        reference["table"][size_t(id * 3 + d)].step(t, gradient[size_t(d)]);

    ASSERT_TRUE(packExamples(step->plan(), batch, packing, packed, error)) << error;
    StepReport report;
    ASSERT_TRUE(trainer->step(packed[0], report, error)) << error;
    ASSERT_FALSE(report.skipped);
  }
  EXPECT_EQ(trainer->stepsTaken(), 3);
  for (auto &[name, elements] : reference) {
    const cpu::Tensor &value = named(*step, name), &m = named(*step, name + ".adam_m"),
                      &v = named(*step, name + ".adam_v");
    for (size_t i = 0; i < elements.size(); ++i) {
      EXPECT_NEAR(value.as<float>()[i], elements[i].p, 1e-5 * (1 + std::abs(elements[i].p)))
          << name << " element " << i;
      EXPECT_NEAR(m.as<float>()[i], elements[i].m, 1e-5 * (1 + std::abs(elements[i].m)))
          << name << ".adam_m element " << i;
      EXPECT_NEAR(v.as<float>()[i], elements[i].v, 1e-5 * (1 + std::abs(elements[i].v)))
          << name << ".adam_v element " << i;
    }
  }
  // Row 4 was never read: no decay, no moments.
  for (int d = 0; d < 3; ++d) {
    EXPECT_EQ(named(*step, "table").as<float>()[12 + d], float(reference["table"][size_t(12 + d)].p));
    EXPECT_EQ(named(*step, "table.adam_v").as<float>()[12 + d], 0.0f);
  }
}

TEST(CompiledAdamW, MomentsStartAtZeroAndAreNotWeights) {
  std::unique_ptr<Model> step = compiled(true);
  ASSERT_TRUE(step);
  Status status;
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  ASSERT_TRUE(step->generateWeights(1, weights, status)) << status;
  for (const auto &[name, tensor] : weights)
    EXPECT_EQ(name.find(".adam_"), std::string::npos) << name << " is generated as a weight";
  std::map<std::string, cpu::Tensor> withMoment(weights.begin(), weights.end());
  withMoment["w.adam_m"] = cpu::Tensor::owned(DType::F32, {12});
  EXPECT_FALSE(step->setWeights(withMoment, status));
  EXPECT_NE(status.message().find("'w.adam_m', an optimizer moment"), std::string::npos) << status;
  ASSERT_TRUE(step->setWeights({weights.begin(), weights.end()}, status)) << status;
  const cpu::Tensor &moment = named(*step, "table.adam_v");
  EXPECT_EQ(moment.shape, std::vector<int64_t>{18});
  for (int64_t i = 0; i < moment.numElements(); ++i)
    EXPECT_EQ(moment.as<float>()[i], 0.0f);
}

/// The names of the outputs of `model` computed in place.
std::set<std::string> updatedInPlace(const Model &model) {
  std::set<std::string> names;
  for (const Output &output : model.plan().outputs)
    if (output.inPlace)
      names.insert(output.name);
  return names;
}

TEST(CompiledAdamW, LazyTableUpdatesRunInPlace) {
  // One rank: the table and its moments are updated where they are stored
  // (the numerics above run that way); the dense weight's fused update is not.
  std::unique_ptr<Model> step = compiled(true);
  ASSERT_TRUE(step);
  std::set<std::string> expected = {"update:table", "update:table.adam_m",
                                    "update:table.adam_v"};
  EXPECT_EQ(updatedInPlace(*step), expected);
  // Over 2 ranks the moments are the rank's shards, stored as such; the
  // table is whole at stages 1 and 2 (its shard is a slice) and a shard of
  // its own at stage 3.
  mlir::lmc::CompileOptions options;
  options.train = true;
  options.maxBatch = 8;
  options.maxTokens = 64;
  for (int stage : {2, 3}) {
    std::string bytes =
        testing::compileSource(testing::shardedTinyTrainingModel(stage, 2), options), error;
    Status status;
    std::unique_ptr<Model> sharded = Model::fromBytes(bytes, status);
    ASSERT_TRUE(sharded) << status;
    std::set<std::string> moments = {"update:table.adam_m", "update:table.adam_v"};
    if (stage == 3)
      moments.insert("update:table");
    EXPECT_EQ(updatedInPlace(*sharded), moments) << "stage " << stage;
  }
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
