// TrainingStepTest.cpp - whole training steps of the ranking example
// (spec -> lmc compile --train -> package -> CPU backend -> trainer):
// gradients against the float64 evaluator, learning a synthetic rule in
// f32 and f16, and a step skipped on overflow.

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "compiler/eval/Evaluator.h"
#include "passes/Passes.h"

#include "session/Model.h"
#include "train/Trainer.h"

#include "../passes/PassNumerics.h"
#include "BackendTestSupport.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace lmc {
namespace {

namespace eval = mlir::lmc::eval;

/// The ranking example's training step; without `optimizer` it returns
/// the gradients instead of updating.
std::unique_ptr<rt::Model> trainingPackage(mlir::lmc::Precision precision, uint64_t seed,
                                           bool optimizer = true) {
  mlir::lmc::CompileOptions options;
  options.train = true;
  options.optimizer = optimizer;
  options.precision = precision;
  options.maxBatch = 32;
  options.maxSequence = 16;
  options.maxTokens = 512;
  std::string bytes = testing::compileExample("bst_ranker.yaml", options);
  EXPECT_FALSE(bytes.empty());
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromBytes(bytes, status);
  EXPECT_TRUE(model) << status;
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  EXPECT_TRUE(model && model->generateWeights(seed, weights, status) &&
              model->setWeights({weights.begin(), weights.end()}, status))
      << status;
  return model;
}

/// Random examples labelled by a rule over their features: users under 30
/// click.
std::vector<rt::Example> labelledExamples(const rt::Plan &plan, size_t count, uint64_t seed) {
  std::vector<rt::Example> examples = testing::randomExamples(plan, count, 12, seed);
  for (rt::Example &example : examples) {
    rt::FeatureValue label;
    label.reals = {example.features.at("user_age").reals[0] < 30 ? 1.0 : 0.0};
    example.features["clicked"] = label;
  }
  return examples;
}

/// Dense gradients per parameter from a step's outputs ("gradient:<name>",
/// or its row-sparse parts scattered into a zero table), in f64.
std::map<std::string, std::vector<double>>
denseGradients(const rt::Plan &plan, const std::vector<std::string> &names,
               const std::vector<std::vector<double>> &values) {
  std::map<std::string, std::vector<double>> gradients;
  std::map<std::string, const rt::Parameter *> parameters;
  for (const rt::Parameter &parameter : plan.parameters)
    parameters[parameter.name] = &parameter;
  for (size_t o = 0; o < names.size(); ++o) {
    const std::string &name = names[o];
    if (name.rfind("gradient:", 0) != 0)
      continue;
    std::string rest = name.substr(9);
    bool indices = rest.size() > 8 && rest.substr(rest.size() - 8) == ":indices";
    bool rows = rest.size() > 5 && rest.substr(rest.size() - 5) == ":rows";
    std::string parameter = rest.substr(0, rest.size() - (indices ? 8 : rows ? 5 : 0));
    const rt::Parameter &declared = *parameters.at(parameter);
    int64_t count = 1;
    for (int64_t d : declared.type.shape)
      count *= d;
    std::vector<double> &dense = gradients[parameter];
    dense.resize(size_t(count), 0.0);
    if (rows)
      continue;
    if (!indices) {
      for (int64_t i = 0; i < count; ++i)
        dense[size_t(i)] += values[o][size_t(i)];
      continue;
    }
    int64_t width = declared.type.shape[1], tableRows = declared.type.shape[0];
    for (size_t j = 0; j < values[o].size(); ++j) {
      int64_t id = int64_t(values[o][j]);
      if (id >= 0 && id < tableRows)
        for (int64_t d = 0; d < width; ++d)
          dense[size_t(id * width + d)] += values[o + 1][j * size_t(width) + size_t(d)];
    }
  }
  return gradients;
}

std::vector<double> realsOf(const cpu::Tensor &tensor) {
  std::vector<double> values;
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    values.push_back(cpu::realAt(tensor, i));
  return values;
}

TEST(TrainingStep, MatchesTheFloat64Evaluator) {
  std::unique_ptr<rt::Model> model = trainingPackage(mlir::lmc::Precision::FP32, 4, false);
  ASSERT_TRUE(model);
  const rt::Plan &plan = model->plan();
  std::vector<rt::Example> examples = labelledExamples(plan, 24, 4);
  std::vector<rt::PackedBatch> batches;
  ::lmc::rt::Status error;
  rt::PackingOptions packing;
  ASSERT_TRUE(rt::packExamples(plan, examples, packing, batches, error)) << error;
  std::vector<cpu::Tensor> outputs;
  ASSERT_TRUE(model->runBatch(batches[0], outputs, error)) << error;

  // The reference: the uncompiled model, its loss and its gradients in f64
  // on the same (padded) inputs.
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> reference =
      mlir::lmc::testing::loadExample("bst_ranker.yaml", context);
  ASSERT_TRUE(reference);
  mlir::PassManager pm(&context);
  pm.addPass(mlir::lmc::createAttachLossPass());
  pm.addPass(mlir::lmc::createAutodiffPass());
  ASSERT_TRUE(mlir::succeeded(pm.run(*reference)));
  auto function = *reference->getOps<mlir::func::FuncOp>().begin();
  mlir::SmallVector<eval::EvalTensor> inputs;
  for (auto [i, tensor] : llvm::enumerate(batches[0].inputs)) {
    auto type = llvm::cast<mlir::ShapedType>(function.getArgumentTypes()[i]);
    auto value = eval::EvalTensor::zeros(tensor.shape, type.getElementType());
    for (int64_t j = 0; j < tensor.numElements(); ++j) {
      if (value.isInteger())
        value.integers[size_t(j)] = cpu::integerAt(tensor, j);
      else
        value.reals[size_t(j)] = cpu::realAt(tensor, j);
    }
    inputs.push_back(value);
  }
  auto parameters = eval::Parameters::fromSeed(4);
  auto want = eval::evaluate(function, inputs, parameters);
  ASSERT_TRUE(mlir::succeeded(want));

  std::vector<std::string> gotNames, wantNames;
  std::vector<std::vector<double>> gotValues, wantValues;
  for (size_t o = 0; o < outputs.size(); ++o) {
    gotNames.push_back(plan.outputs[o].name);
    gotValues.push_back(realsOf(outputs[o]));
  }
  for (unsigned r = 0; r < function.getNumResults(); ++r) {
    std::string name = "loss";
    if (auto parameter = function.getResultAttrOfType<mlir::StringAttr>(r, "lmc.gradient")) {
      auto part = function.getResultAttrOfType<mlir::StringAttr>(r, "lmc.sparse");
      name = "gradient:" + parameter.str() + (part ? ":" + part.str() : "");
    }
    wantNames.push_back(name);
    const eval::EvalTensor &tensor = (*want)[r];
    std::vector<double> values;
    for (int64_t j = 0; j < tensor.numElements(); ++j)
      values.push_back(tensor.real(j));
    wantValues.push_back(values);
  }
  EXPECT_NEAR(gotValues[0][0], wantValues[0][0], 1e-5 * std::fabs(wantValues[0][0]));
  auto got = denseGradients(plan, gotNames, gotValues);
  auto expected = denseGradients(plan, wantNames, wantValues);
  ASSERT_EQ(got.size(), plan.parameters.size());
  double errorSquared = 0, normSquared = 0;
  for (const auto &[name, values] : expected) {
    ASSERT_TRUE(got.count(name)) << name;
    double parameterError = 0, parameterNorm = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      parameterError += std::pow(got[name][i] - values[i], 2);
      parameterNorm += values[i] * values[i];
    }
    EXPECT_LE(std::sqrt(parameterError), 1e-3 * std::sqrt(parameterNorm) + 1e-7) << name;
    errorSquared += parameterError;
    normSquared += parameterNorm;
  }
  double relative = std::sqrt(errorSquared / normSquared);
  EXPECT_LT(relative, 1e-4);
  std::printf("training step: loss %.6f (reference %.6f), gradients rel. L2 %.3g over %zu "
              "parameters\n",
              gotValues[0][0], wantValues[0][0], relative, expected.size());
}

class RankerLearns : public ::testing::TestWithParam<mlir::lmc::Precision> {};

TEST_P(RankerLearns, LossFallsByHalf) {
  std::unique_ptr<rt::Model> model = trainingPackage(GetParam(), 1);
  ASSERT_TRUE(model);
  ::lmc::rt::Status error;
  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  std::unique_ptr<rt::Trainer> trainer = rt::Trainer::create(*model, *alone, error);
  ASSERT_TRUE(trainer) << error;
  std::vector<rt::Example> examples = labelledExamples(model->plan(), 256, 7);
  rt::PackingOptions packing;
  std::vector<rt::PackedBatch> batches;
  ASSERT_TRUE(rt::planBatches(model->plan(), examples, packing, batches, error)) << error;
  const int steps = 120;
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    rt::PackedBatch &batch = batches[size_t(step) % batches.size()];
    rt::StepReport report;
    ASSERT_TRUE(rt::buildBatchInputs(model->plan(), examples, packing, batch, error)) << error;
    ASSERT_TRUE(trainer->step(batch, report, error)) << error;
    batch.inputs.clear();
    if (!report.skipped)
      losses.push_back(report.loss);
  }
  // One epoch's mean at the start and at the end.
  size_t epoch = batches.size();
  ASSERT_GT(losses.size(), 2 * epoch);
  double first = 0, last = 0;
  for (size_t i = 0; i < epoch; ++i) {
    first += losses[i] / double(epoch);
    last += losses[losses.size() - 1 - i] / double(epoch);
  }
  EXPECT_LE(last, 0.5 * first) << "mean loss of the first epoch " << first << ", of the last "
                               << last;
  std::printf("%s: mean loss %.4f over the first epoch, %.4f over the last (%d steps, %lld "
              "skipped, %zu batches)\n",
              GetParam() == mlir::lmc::Precision::FP16 ? "fp16" : "fp32", first, last, steps,
              (long long)trainer->skippedSteps(), batches.size());
}

INSTANTIATE_TEST_SUITE_P(Precisions, RankerLearns,
                         ::testing::Values(mlir::lmc::Precision::FP32,
                                           mlir::lmc::Precision::FP16),
                         [](const ::testing::TestParamInfo<mlir::lmc::Precision> &info) {
                           return info.param == mlir::lmc::Precision::FP16 ? "fp16" : "fp32";
                         });

TEST(TrainingStep, InjectedOverflowSkipsTheStepAndHalvesTheScale) {
  std::unique_ptr<rt::Model> model = trainingPackage(mlir::lmc::Precision::FP16, 2);
  ASSERT_TRUE(model);
  ::lmc::rt::Status error;
  std::unique_ptr<rt::Communicator> alone = rt::singleRank();
  std::unique_ptr<rt::Trainer> trainer = rt::Trainer::create(*model, *alone, error);
  ASSERT_TRUE(trainer) << error;
  std::vector<rt::Example> examples = labelledExamples(model->plan(), 32, 2);
  rt::PackingOptions packing;
  std::vector<rt::PackedBatch> batches;
  ASSERT_TRUE(rt::packExamples(model->plan(), examples, packing, batches, error)) << error;
  std::vector<std::vector<float>> before;
  for (const cpu::Tensor &parameter : model->parameterTensors())
    before.emplace_back(parameter.as<float>(), parameter.as<float>() + parameter.numElements());
  double scale = trainer->lossScaler().scale();

  // A loss scale far past f16's range overflows every gradient.
  trainer->overrideNextLossScale(1e30);
  rt::StepReport report;
  ASSERT_TRUE(trainer->step(batches[0], report, error)) << error;
  EXPECT_TRUE(report.skipped);
  EXPECT_EQ(trainer->skippedSteps(), 1);
  EXPECT_EQ(trainer->lossScaler().scale(), scale / 2);
  for (size_t p = 0; p < before.size(); ++p)
    EXPECT_TRUE(std::equal(before[p].begin(), before[p].end(),
                           model->parameterTensors()[p].as<float>()))
        << model->plan().parameters[p].name << " changed in a skipped step";

  // The next step, at the halved scale, updates.
  ASSERT_TRUE(trainer->step(batches[0], report, error)) << error;
  EXPECT_FALSE(report.skipped);
  bool changed = false;
  for (size_t p = 0; p < before.size(); ++p)
    changed |= !std::equal(before[p].begin(), before[p].end(),
                           model->parameterTensors()[p].as<float>());
  EXPECT_TRUE(changed);
}

} // namespace
} // namespace lmc
