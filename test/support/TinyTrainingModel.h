// TinyTrainingModel.h - a model small enough to follow every element of a
// training step: a dense weight and an embedding table read twice per
// example, with its training section (AdamW settings a test can restate),
// and examples that read one table row three times, one never and one id
// outside the table.

#ifndef LMC_TEST_SUPPORT_TINYTRAININGMODEL_H
#define LMC_TEST_SUPPORT_TINYTRAININGMODEL_H

#include "packer/Example.h"

#include <string>
#include <vector>

namespace lmc::testing {

constexpr const char *kTinyTrainingModel = R"mlir(
module attributes {lmc.training = {loss = "mean_squared_error", label = "y",
                                   learning_rate = 0.05 : f64, beta1 = 0.8 : f64,
                                   beta2 = 0.95 : f64, epsilon = 1.0e-6 : f64,
                                   weight_decay = 0.1 : f64}} {
  lmc.parameter @w : tensor<4x3xf32> initializer {kind = "normal", stddev = 0.5 : f64}
  lmc.parameter @table : tensor<6x3xf32> initializer {kind = "normal", stddev = 0.5 : f64}
  func.func @model(%x: tensor<?x4xf32> {lmc.feature = "x", lmc.ingest = "value"},
                   %ids: tensor<?x2xi64> {lmc.feature = "ids", lmc.ingest = "value"})
      -> (tensor<?x3xf32> {lmc.output = "y_hat"}) {
    %w = lmc.param_load @w : tensor<4x3xf32>
    %t = lmc.param_load @table : tensor<6x3xf32>
    %h = lmc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
    %e = lmc.embedding %t[%ids] : (tensor<6x3xf32>, tensor<?x2xi64>) -> tensor<?x2x3xf32>
    %s = lmc.reduce_sum %e axis 1 : tensor<?x2x3xf32> -> tensor<?x3xf32>
    %y = lmc.add %h, %s : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
    return %y : tensor<?x3xf32>
  }
}
)mlir";

/// The AdamW settings of kTinyTrainingModel's training section.
constexpr double kTinyRate = 0.05, kTinyBeta1 = 0.8, kTinyBeta2 = 0.95, kTinyEpsilon = 1e-6,
                 kTinyWeightDecay = 0.1;
constexpr int64_t kTinyTableRows = 6;

/// Four examples: table row 1 read three times, row 4 never, id 7 outside
/// the table.
inline std::vector<rt::Example> tinyTrainingExamples() {
  std::vector<std::vector<int64_t>> ids = {{1, 1}, {2, 5}, {1, 3}, {7, 0}};
  std::vector<rt::Example> out;
  for (size_t e = 0; e < ids.size(); ++e) {
    rt::FeatureValue x, id, y;
    x.reals = {0.5 * double(e), -1.0, 0.25, double(e % 2)};
    id.kind = rt::FeatureValue::Kind::Integers;
    id.integers = ids[e];
    y.reals = {1.0, -0.5, double(e)};
    rt::Example example;
    example.features = {{"x", x}, {"ids", id}, {"y", y}};
    out.push_back(std::move(example));
  }
  return out;
}

/// kTinyTrainingModel sharded over `ranks` at ZeRO `stage`, with a bias of
/// 3 elements besides (over 2 ranks its shards are padded).
inline std::string shardedTinyTrainingModel(int stage, int ranks) {
  std::string source = kTinyTrainingModel;
  auto replaceFirst = [&](const std::string &from, const std::string &to) {
    source.replace(source.find(from), from.size(), to);
  };
  replaceFirst("learning_rate", "zero_stage = " + std::to_string(stage) + " : i64, ranks = " +
                                    std::to_string(ranks) + " : i64, learning_rate");
  replaceFirst("  func.func", "  lmc.parameter @b : tensor<3xf32> initializer {kind = \"normal\", "
                              "stddev = 0.5 : f64}\n  func.func");
  replaceFirst("    return %y", "    %b = lmc.param_load @b : tensor<3xf32>\n"
                              "    %biased = lmc.add %y, %b : (tensor<?x3xf32>, tensor<3xf32>) -> "
                              "tensor<?x3xf32>\n"
                              "    return %biased");
  return source;
}

} // namespace lmc::testing

#endif // LMC_TEST_SUPPORT_TINYTRAININGMODEL_H
