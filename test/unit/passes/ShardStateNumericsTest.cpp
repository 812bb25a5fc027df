// ShardStateNumericsTest.cpp - --lmc-shard-state in the f64 evaluator: with
// one rank, the step's updates are PyTorch's AdamW (dense) and lazy row
// AdamW (the embedding table) of the gradients --lmc-autodiff returns for
// the same inputs; a step whose gradients are not finite changes nothing.

#include "compiler/eval/Evaluator.h"
#include "dialects/lmc/IR/LmcDialect.h"
#include "dialects/lmc/IR/LmcOps.h"
#include "passes/Passes.h"
#include "support/TinyTrainingModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

namespace mlir::lmc {
namespace {

using eval::EvalTensor;
using namespace ::lmc::testing;

struct Step {
  OwningOpRef<ModuleOp> gradients, update;
};

/// The tiny model's step, differentiated; then also with its update.
Step compile(MLIRContext &context) {
  Step step;
  step.gradients = parseSourceString<ModuleOp>(kTinyTrainingModel, &context);
  PassManager differentiate(&context);
  differentiate.addPass(createAttachLossPass());
  differentiate.addPass(createAutodiffPass());
  EXPECT_TRUE(step.gradients && succeeded(differentiate.run(*step.gradients)));
  step.update = step.gradients->clone();
  ShardStatePassOptions options;
  options.beta1 = kTinyBeta1;
  options.beta2 = kTinyBeta2;
  options.epsilon = kTinyEpsilon;
  options.weightDecay = kTinyWeightDecay;
  PassManager shard(&context);
  shard.addPass(createShardStatePass(options));
  EXPECT_TRUE(succeeded(shard.run(*step.update)));
  return step;
}

EvalTensor tensor(MLIRContext &context, SmallVector<int64_t> shape, std::vector<double> values,
                  bool integers = false) {
  Builder builder(&context);
  EvalTensor out = EvalTensor::zeros(shape, integers ? Type(builder.getI64Type())
                                                     : Type(builder.getF32Type()));
  for (size_t i = 0; i < values.size(); ++i) {
    if (integers)
      out.integers[i] = int64_t(values[i]);
    else
      out.reals[i] = values[i];
  }
  return out;
}

/// Results of `function` by the value of `attribute` on each.
std::map<std::string, const EvalTensor *> byAttribute(func::FuncOp function,
                                                      ArrayRef<EvalTensor> results,
                                                      StringRef attribute) {
  std::map<std::string, const EvalTensor *> found;
  for (unsigned r = 0; r < function.getNumResults(); ++r)
    if (auto name = function.getResultAttrOfType<StringAttr>(r, attribute)) {
      std::string key = name.str();
      if (auto part = function.getResultAttrOfType<StringAttr>(r, "lmc.sparse"))
        key += ":" + part.str();
      found[key] = &results[r];
    }
  return found;
}

class ShardStateNumerics : public ::testing::TestWithParam<double> {};

TEST_P(ShardStateNumerics, OneRankUpdatesAreAdamWOfTheGradients) {
  const double scale = GetParam();
  MLIRContext context;
  context.loadDialect<LmcDialect, func::FuncDialect>();
  Step step = compile(context);
  // x [3, 4], ids [3, 2] (row 1 twice, id 9 outside the table), y [3, 3].
  SmallVector<EvalTensor> inputs = {
      tensor(context, {3, 4}, {0.5, -1, 0.25, 1, 2, 0.5, -0.75, 0, -1, 1, 1, 0.5}),
      tensor(context, {3, 2}, {1, 1, 2, 9, 0, 5}, /*integers=*/true),
      tensor(context, {3, 3}, {1, -0.5, 0, 0.5, 2, -1, 0, 0, 1}),
      tensor(context, {}, {scale})};
  auto gradientsOf = step.gradients->lookupSymbol<func::FuncOp>("model");
  eval::Parameters before = eval::Parameters::fromSeed(3);
  FailureOr<SmallVector<EvalTensor>> gradients =
      eval::evaluate(gradientsOf, inputs, before, nullptr, eval::EvalOptions{true});
  ASSERT_TRUE(succeeded(gradients));

  const double rate = 0.01, t = 2;
  inputs.push_back(tensor(context, {4},
                          {rate, 1 / (1 - std::pow(kTinyBeta1, t)),
                           1 / std::sqrt(1 - std::pow(kTinyBeta2, t)), 1 / scale}));
  auto updateOf = step.update->lookupSymbol<func::FuncOp>("model");
  eval::Parameters parameters = eval::Parameters::fromSeed(3);
  FailureOr<SmallVector<EvalTensor>> updated =
      eval::evaluate(updateOf, inputs, parameters, nullptr, eval::EvalOptions{true});
  ASSERT_TRUE(succeeded(updated));
  std::map<std::string, const EvalTensor *> update = byAttribute(updateOf, *updated, "lmc.update");
  std::map<std::string, const EvalTensor *> gradient =
      byAttribute(gradientsOf, *gradients, "lmc.gradient");
  bool finite = std::isfinite(scale);
  EXPECT_EQ(byAttribute(updateOf, *updated, "lmc.output").at("finite")->reals[0], finite ? 1 : 0);

  // The reference: AdamW from zero moments (update number t), on the
  // unscaled gradient; the table's duplicate ids summed, untouched rows kept.
  // The dense update's constants are f32 in the IR: so are they here.
  auto f32 = [](double x) { return double(float(x)); };
  const double oneMinusBeta1 = f32(1 - kTinyBeta1), oneMinusBeta2 = f32(1 - kTinyBeta2);
  const double decay = 1 - rate * f32(kTinyWeightDecay), epsilon = f32(kTinyEpsilon);
  std::map<std::string, std::vector<double>> g;
  g["w"] = gradient.at("w")->reals;
  const EvalTensor &ids = *gradient.at("table:indices"), &rows = *gradient.at("table:rows");
  std::vector<bool> touched(size_t(kTinyTableRows * 3), false);
  g["table"].assign(touched.size(), 0.0);
  for (int64_t k = 0; k < ids.numElements(); ++k) {
    int64_t id = ids.integers[size_t(k)];
    for (int64_t d = 0; d < 3 && id >= 0 && id < kTinyTableRows; ++d) {
      g["table"][size_t(id * 3 + d)] += rows.reals[size_t(k * 3 + d)];
      touched[size_t(id * 3 + d)] = true;
    }
  }
  for (ParameterOp parameter : step.gradients->getOps<ParameterOp>()) {
    std::string name = parameter.getSymName().str();
    const std::vector<double> &initial = (*before.get(parameter))->reals;
    for (size_t i = 0; i < initial.size(); ++i) {
      // The table's rows (lmc.adamw_rows) take the settings as f64.
      bool dense = name == "w", changes = finite && (dense || touched[i]);
      double unscaled = g[name][i] / scale;
      double m = changes ? (dense ? oneMinusBeta1 : 1 - kTinyBeta1) * unscaled : 0;
      double v = changes ? (dense ? oneMinusBeta2 : 1 - kTinyBeta2) * unscaled * unscaled : 0;
      double expected =
          changes ? initial[i] * (dense ? decay : 1 - rate * kTinyWeightDecay) -
                        rate / (1 - std::pow(kTinyBeta1, t)) * m /
                            (std::sqrt(v / (1 - std::pow(kTinyBeta2, t))) +
                             (dense ? epsilon : kTinyEpsilon))
                  : initial[i];
      EXPECT_NEAR(update.at(name)->reals[i], expected, 1e-12 * (1 + std::fabs(expected)))
          << name << " element " << i;
      EXPECT_NEAR(update.at(name + ".adam_m")->reals[i], m, 1e-12) << name << " element " << i;
      EXPECT_NEAR(update.at(name + ".adam_v")->reals[i], v, 1e-12) << name << " element " << i;
    }
  }
}

// A loss scale of 8 (the update divides it out) and an infinite one (every
// gradient overflows: nothing changes).
INSTANTIATE_TEST_SUITE_P(LossScales, ShardStateNumerics,
                         ::testing::Values(8.0, std::numeric_limits<double>::infinity()),
                         [](const ::testing::TestParamInfo<double> &info) {
                           return std::isfinite(info.param) ? "scale8" : "overflow";
                         });

} // namespace
} // namespace mlir::lmc
