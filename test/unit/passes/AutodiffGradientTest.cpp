// AutodiffGradientTest.cpp - every gradient rule of --lmc-autodiff against
// central finite differences, both computed by the reference evaluator in
// float64 (EvalOptions::exact: nothing is rounded to f32).
//
// Each case is a loss function over parameters: the op under test, then
// sum(y * probe) with a random parameter `probe`, so every element of y
// carries a different weight. The pass turns a copy into the training step;
// every parameter element's analytic gradient must match
// (L(p + h) - L(p - h)) / 2h.

#include "compiler/eval/Evaluator.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcDialect.h"
#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace mlir::lmc {
namespace {

using eval::EvalTensor;

/// Integer input (ids, lengths, cu_seqlens) of `type` ("i64" or "i32").
struct IntInput {
  std::vector<int64_t> shape, values;
  std::string type = "i64";
};
/// Float input (a feature, not differentiated).
struct RealInput {
  std::vector<int64_t> shape;
  std::vector<double> values;
};
using Input = std::variant<IntInput, RealInput>;

struct GradientCase {
  std::string name;
  /// Parameter declarations (without initializers: uniform in [-1, 1]
  /// unless `positive`, then [0.5, 2]).
  std::vector<std::pair<std::string, std::string>> parameters;
  /// Function arguments, as written in the signature, and their values.
  std::string arguments;
  std::vector<Input> inputs;
  /// The body; its value %y (of type `yType`) feeds the loss.
  std::string body, yType;
  bool positive = false;
  /// When set, the module's lmc.training dictionary: %y is the model output
  /// and --lmc-attach-loss writes the loss (its label is the last input).
  std::string training = "";
};

// Test names already say which case failed; print the name, not the bytes.
void PrintTo(const GradientCase &c, std::ostream *os) { *os << c.name; }

/// `y`'s static trailing dimensions: the probe's shape (a dynamic leading
/// dimension is broadcast over).
std::string probeType(const std::string &yType) {
  std::string shape = yType.substr(7, yType.size() - 8); // tensor<...>
  while (shape.rfind("?x", 0) == 0)
    shape = shape.substr(2);
  return "tensor<" + shape + ">";
}

int rankOf(const std::string &type) {
  return int(std::count(type.begin(), type.end(), 'x'));
}

std::string dropLeading(const std::string &type) {
  std::string shape = type.substr(7, type.size() - 8);
  size_t cut = shape.find('x');
  return "tensor<" + shape.substr(cut + 1) + ">";
}

std::string moduleText(const GradientCase &c) {
  std::string init = c.positive
                         ? "initializer {kind = \"uniform\", min = 0.5 : f64, max = 2.0 : f64}"
                         : "initializer {kind = \"uniform\", min = -1.0 : f64, max = 1.0 : f64}";
  std::string text = "module {\n";
  for (const auto &[name, type] : c.parameters)
    text += "  lmc.parameter @" + name + " : " + type + " " + init + "\n";
  text += "  lmc.parameter @probe : " + probeType(c.yType) +
          " initializer {kind = \"uniform\", min = -1.0 : f64, max = 1.0 : f64}\n";
  if (!c.training.empty()) {
    text = "module attributes {lmc.training = " + c.training + "} {\n" + text.substr(9);
    text += "  func.func @f(" + c.arguments + ") -> (" + c.yType +
            " {lmc.output = \"y\"}) {\n" + c.body + "    return %y : " + c.yType +
            "\n  }\n}\n";
    return text;
  }
  text += "  func.func @f(" + c.arguments + ") -> (tensor<f32> {lmc.loss}) {\n";
  text += c.body;
  text += "    %probe = lmc.param_load @probe : " + probeType(c.yType) + "\n";
  text += "    %l0 = lmc.mul %y, %probe : (" + c.yType + ", " + probeType(c.yType) +
          ") -> " + c.yType + "\n";
  std::string type = c.yType;
  int rank = rankOf(type);
  for (int i = 0; i < rank; ++i) {
    std::string next = dropLeading(type);
    if (i == rank - 1)
      next = "tensor<f32>";
    text += "    %l" + std::to_string(i + 1) + " = lmc.reduce_sum %l" + std::to_string(i) +
            " axis 0 : " + type + " -> " + next + "\n";
    type = next;
  }
  text += "    return %l" + std::to_string(rank) + " : tensor<f32>\n  }\n}\n";
  return text;
}

EvalTensor tensorOf(const Input &input, MLIRContext &context) {
  EvalTensor tensor;
  if (const auto *ints = std::get_if<IntInput>(&input)) {
    tensor.shape.assign(ints->shape.begin(), ints->shape.end());
    tensor.elementType = IntegerType::get(&context, ints->type == "i32" ? 32 : 64);
    tensor.integers = ints->values;
  } else {
    const auto &reals = std::get<RealInput>(input);
    tensor.shape.assign(reals.shape.begin(), reals.shape.end());
    tensor.elementType = Float32Type::get(&context);
    tensor.reals = reals.values;
  }
  return tensor;
}

/// The dense gradient per parameter name from the step's results
/// (row-sparse parts scattered into a zero table).
std::map<std::string, std::vector<double>>
denseGradients(func::FuncOp step, ArrayRef<EvalTensor> results, ModuleOp module) {
  std::map<std::string, std::vector<double>> gradients;
  for (unsigned i = 0; i < step.getNumResults(); ++i) {
    auto name = step.getResultAttrOfType<StringAttr>(i, "lmc.gradient");
    if (!name)
      continue;
    auto parameter = module.lookupSymbol<ParameterOp>(name.getValue());
    auto type = llvm::cast<RankedTensorType>(parameter.getType());
    std::vector<double> &dense = gradients[name.str()];
    dense.resize(size_t(type.getNumElements()), 0.0);
    auto sparse = step.getResultAttrOfType<StringAttr>(i, "lmc.sparse");
    if (!sparse) {
      dense = results[i].reals;
      continue;
    }
    if (sparse.getValue() != "indices")
      continue;
    const EvalTensor &indices = results[i], &rows = results[i + 1];
    int64_t width = type.getDimSize(1);
    for (int64_t j = 0; j < indices.numElements(); ++j) {
      int64_t id = indices.integers[size_t(j)];
      if (id < 0 || id >= type.getDimSize(0))
        continue;
      for (int64_t d = 0; d < width; ++d)
        dense[size_t(id * width + d)] += rows.reals[size_t(j * width + d)];
    }
  }
  return gradients;
}

class AutodiffGradientTest : public ::testing::TestWithParam<GradientCase> {
protected:
  AutodiffGradientTest() { context.loadDialect<LmcDialect, func::FuncDialect>(); }
  MLIRContext context;
};

TEST_P(AutodiffGradientTest, MatchesFiniteDifferences) {
  const GradientCase &c = GetParam();
  std::string text = moduleText(c);
  OwningOpRef<ModuleOp> forward = parseSourceString<ModuleOp>(text, &context);
  ASSERT_TRUE(forward) << text;
  if (!c.training.empty()) {
    PassManager attach(&context);
    attach.addPass(createAttachLossPass());
    ASSERT_TRUE(succeeded(attach.run(*forward))) << text;
  }
  OwningOpRef<ModuleOp> step = forward->clone();
  PassManager pm(&context);
  pm.addPass(createAutodiffPass());
  ASSERT_TRUE(succeeded(pm.run(*step))) << text;

  SmallVector<EvalTensor> inputs;
  for (const Input &input : c.inputs)
    inputs.push_back(tensorOf(input, context));
  SmallVector<EvalTensor> stepInputs(inputs);
  EvalTensor one;
  one.elementType = Float32Type::get(&context);
  one.reals = {1.0};
  stepInputs.push_back(one);

  auto forwardFunction = forward->lookupSymbol<func::FuncOp>("f");
  auto stepFunction = step->lookupSymbol<func::FuncOp>("f");
  eval::Parameters parameters = eval::Parameters::fromSeed(11);
  eval::EvalOptions exact{/*exact=*/true};
  FailureOr<SmallVector<EvalTensor>> results =
      eval::evaluate(stepFunction, stepInputs, parameters, nullptr, exact);
  ASSERT_TRUE(succeeded(results)) << "the training step failed to evaluate:\n"
                                  << text;
  auto analytic = denseGradients(stepFunction, *results, *forward);

  auto lossAt = [&]() {
    FailureOr<SmallVector<EvalTensor>> loss =
        eval::evaluate(forwardFunction, inputs, parameters, nullptr, exact);
    return succeeded(loss) ? loss->front().reals.front() : NAN;
  };
  EXPECT_NEAR(lossAt(), results->front().reals.front(), 1e-12);

  const double h = 1e-6;
  for (ParameterOp parameter : forward->getOps<ParameterOp>()) {
    std::string name = parameter.getSymName().str();
    if (!c.training.empty() && name == "probe")
      continue; // declared, but the attached loss does not read it
    ASSERT_TRUE(analytic.count(name)) << "no gradient for @" << name;
    EvalTensor base = **parameters.get(parameter);
    // At most 48 elements per parameter, spread over the whole tensor.
    int64_t count = base.numElements();
    int64_t stride = std::max<int64_t>(1, count / 48);
    for (int64_t i = 0; i < count; i += stride) {
      EvalTensor shifted = base;
      shifted.reals[size_t(i)] = base.reals[size_t(i)] + h;
      parameters.set(name, shifted);
      double plus = lossAt();
      shifted.reals[size_t(i)] = base.reals[size_t(i)] - h;
      parameters.set(name, shifted);
      double minus = lossAt();
      double numeric = (plus - minus) / (2 * h);
      EXPECT_NEAR(analytic[name][size_t(i)], numeric, 1e-6 + 1e-6 * std::fabs(numeric))
          << "@" << name << " element " << i;
    }
    parameters.set(name, base);
  }
}

const char *kMatrix = "tensor<3x4xf32>";

GradientCase unaryCase(const std::string &name, const std::string &op, bool positive = false) {
  return {name, {{"x", kMatrix}}, "", {},
          "    %x = lmc.param_load @x : tensor<3x4xf32>\n"
          "    %y = lmc." + op + " %x : tensor<3x4xf32>\n",
          kMatrix, positive};
}

GradientCase binaryCase(const std::string &name, const std::string &op,
                        const std::string &rhsType, bool positive = false) {
  return {name, {{"a", kMatrix}, {"b", rhsType}}, "", {},
          "    %a = lmc.param_load @a : tensor<3x4xf32>\n"
          "    %b = lmc.param_load @b : " + rhsType + "\n"
          "    %y = lmc." + op + " %a, %b : (tensor<3x4xf32>, " + rhsType +
              ") -> tensor<3x4xf32>\n",
          kMatrix, positive};
}

GradientCase matmulCase(const std::string &name, const std::string &lhsType,
                        const std::string &rhsType, const std::string &flags,
                        const std::string &yType) {
  return {name, {{"a", lhsType}, {"b", rhsType}}, "", {},
          "    %a = lmc.param_load @a : " + lhsType + "\n"
          "    %b = lmc.param_load @b : " + rhsType + "\n"
          "    %y = lmc.matmul %a, %b " + flags + " : (" + lhsType + ", " + rhsType +
              ") -> " + yType + "\n",
          yType};
}

// Three packed sequences of lengths 3, 1 and 4 (and the same as padded
// lengths over S = 4).
IntInput cuSeqlens() { return {{4}, {0, 3, 4, 8}, "i32"}; }
IntInput lengths() { return {{3}, {3, 1, 4}, "i32"}; }

GradientCase attentionCase(const std::string &name, const std::string &flags, int keyHeads) {
  std::string q = "tensor<8x4x8xf32>";
  std::string kv = "tensor<8x" + std::to_string(keyHeads) + "x8xf32>";
  return {name, {{"q", q}, {"k", kv}, {"v", kv}}, "%cu: tensor<4xi32>", {cuSeqlens()},
          "    %q = lmc.param_load @q : " + q + "\n"
          "    %k = lmc.param_load @k : " + kv + "\n"
          "    %v = lmc.param_load @v : " + kv + "\n"
          "    %y = lmc.attention %q, %k, %v cu_seqlens(%cu) " + flags + " : (" + q + ", " +
              kv + ", " + kv + ", tensor<4xi32>) -> " + q + "\n",
          q};
}

GradientCase segmentCase(const std::string &reduction) {
  return {"segment_reduce_" + reduction, {{"x", "tensor<8x5xf32>"}}, "%cu: tensor<?xi32>",
          {IntInput{{5}, {0, 3, 3, 4, 8}, "i32"}},
          "    %x = lmc.param_load @x : tensor<8x5xf32>\n"
          "    %d = lmc.reshape %x : tensor<8x5xf32> -> tensor<?x5xf32>\n"
          "    %y = lmc.segment_reduce " + reduction + " %d, %cu"
          " : (tensor<?x5xf32>, tensor<?xi32>) -> tensor<?x5xf32>\n",
          "tensor<?x5xf32>"};
}

GradientCase bagCase(const std::string &combiner, bool weighted) {
  std::string weights = weighted ? " weights(%w)" : "";
  return {"embedding_bag_" + combiner + (weighted ? "_weighted" : ""),
          {{"table", "tensor<6x3xf32>"}},
          "%ids: tensor<3x4xi64>" + std::string(weighted ? ", %w: tensor<3x4xf32>" : ""),
          weighted ? std::vector<Input>{IntInput{{3, 4}, {0, 5, -1, 2, 7, 7, 7, 7, 1, 1, 3, 0}},
                                        RealInput{{3, 4}, {0.5, 2, 1, -1, 1, 1, 1, 1, 0.25, 3, 1, 2}}}
                   : std::vector<Input>{IntInput{{3, 4}, {0, 5, -1, 2, 7, 7, 7, 7, 1, 1, 3, 0}}},
          "    %table = lmc.param_load @table : tensor<6x3xf32>\n"
          "    %y = lmc.fc.embedding_bag " + combiner + " %table[%ids]" + weights +
              " : (tensor<6x3xf32>, tensor<3x4xi64>" +
              (weighted ? ", tensor<3x4xf32>" : "") + ") -> tensor<3x3xf32>\n",
          "tensor<3x3xf32>"};
}

// A two-layer model whose output [3, 4] feeds each loss.
GradientCase lossCase(const std::string &loss, Input label) {
  return {"loss_" + loss, {{"x", "tensor<3x5xf32>"}, {"w", "tensor<5x4xf32>"}},
          /*arguments: the pass adds the label's*/ "", {label},
          "    %x = lmc.param_load @x : tensor<3x5xf32>\n"
          "    %w = lmc.param_load @w : tensor<5x4xf32>\n"
          "    %h = lmc.matmul %x, %w : (tensor<3x5xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>\n"
          "    %y = lmc.mul %h, %h : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>\n",
          kMatrix, false, "{loss = \"" + loss + "\", label = \"label\"}"};
}

std::vector<GradientCase> allCases() {
  std::vector<GradientCase> cases = {
      binaryCase("add_broadcast", "add", "tensor<4xf32>"),
      binaryCase("sub_broadcast", "sub", "tensor<3x1xf32>"),
      binaryCase("mul_broadcast", "mul", "tensor<1x4xf32>"),
      binaryCase("div", "div", kMatrix, /*positive=*/true),
      binaryCase("max", "max", kMatrix),
      binaryCase("min", "min", "tensor<4xf32>"),
      unaryCase("neg", "neg"),
      unaryCase("exp", "exp"),
      unaryCase("log", "log", /*positive=*/true),
      unaryCase("tanh", "tanh"),
      unaryCase("rsqrt", "rsqrt", /*positive=*/true),
      unaryCase("erf", "erf"),
      unaryCase("silu", "silu"),
      unaryCase("sqrt", "sqrt", /*positive=*/true),
      {"gelu_erf", {{"x", kMatrix}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4xf32>\n"
       "    %y = lmc.gelu erf %x : tensor<3x4xf32>\n", kMatrix},
      {"gelu_tanh", {{"x", kMatrix}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4xf32>\n"
       "    %y = lmc.gelu tanh %x : tensor<3x4xf32>\n", kMatrix},
      {"select", {{"a", kMatrix}, {"b", kMatrix}}, "%c: tensor<3x4xf32>",
       {RealInput{{3, 4}, {1, -1, 2, -2, 0.5, -0.5, 1, 1, -1, -1, 3, -3}}},
       "    %a = lmc.param_load @a : tensor<3x4xf32>\n"
       "    %b = lmc.param_load @b : tensor<3x4xf32>\n"
       "    %zero = lmc.constant dense<0.0> : tensor<f32>\n"
       "    %m = lmc.compare gt, %c, %zero : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xi1>\n"
       "    %y = lmc.select %m, %a, %b : (tensor<3x4xi1>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>\n",
       kMatrix},
      matmulCase("matmul", "tensor<3x5xf32>", "tensor<5x4xf32>", "", kMatrix),
      matmulCase("matmul_transpose_lhs", "tensor<5x3xf32>", "tensor<5x4xf32>", "transpose_lhs", kMatrix),
      matmulCase("matmul_transpose_rhs", "tensor<3x5xf32>", "tensor<4x5xf32>", "transpose_rhs", kMatrix),
      matmulCase("matmul_shared_weight", "tensor<2x3x5xf32>", "tensor<4x5xf32>", "transpose_rhs",
                 "tensor<2x3x4xf32>"),
      matmulCase("matmul_batched_both_transposed", "tensor<2x5x3xf32>", "tensor<2x4x5xf32>",
                 "transpose_lhs transpose_rhs", "tensor<2x3x4xf32>"),
      {"reduce_sum_keep_dims", {{"x", "tensor<3x4x2xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4x2xf32>\n"
       "    %y = lmc.reduce_sum %x axis 1 keep_dims : tensor<3x4x2xf32> -> tensor<3x1x2xf32>\n",
       "tensor<3x1x2xf32>"},
      {"reduce_sum_dynamic", {{"x", "tensor<6x4xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<6x4xf32>\n"
       "    %d = lmc.reshape %x : tensor<6x4xf32> -> tensor<?x4xf32>\n"
       "    %s = lmc.reduce_sum %d axis 1 : tensor<?x4xf32> -> tensor<?xf32>\n"
       "    %y = lmc.reshape %s : tensor<?xf32> -> tensor<?x1xf32>\n",
       "tensor<?x1xf32>"},
      {"reduce_max", {{"x", "tensor<3x4x2xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4x2xf32>\n"
       "    %y = lmc.reduce_max %x axis 1 : tensor<3x4x2xf32> -> tensor<3x2xf32>\n",
       "tensor<3x2xf32>"},
      {"softmax", {{"x", kMatrix}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4xf32>\n"
       "    %y = lmc.softmax %x axis 1 : tensor<3x4xf32>\n", kMatrix},
      {"transpose", {{"x", "tensor<2x3x4xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<2x3x4xf32>\n"
       "    %y = lmc.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>\n",
       "tensor<4x2x3xf32>"},
      {"reshape", {{"x", "tensor<2x6xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<2x6xf32>\n"
       "    %y = lmc.reshape %x : tensor<2x6xf32> -> tensor<2x3x2xf32>\n",
       "tensor<2x3x2xf32>"},
      {"concat", {{"a", "tensor<3x2xf32>"}, {"b", "tensor<3x5xf32>"}}, "", {},
       "    %a = lmc.param_load @a : tensor<3x2xf32>\n"
       "    %b = lmc.param_load @b : tensor<3x5xf32>\n"
       "    %y = lmc.concat %a, %b, %a axis 1 : (tensor<3x2xf32>, tensor<3x5xf32>, tensor<3x2xf32>) -> tensor<3x9xf32>\n",
       "tensor<3x9xf32>"},
      {"slice", {{"x", "tensor<3x7xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x7xf32>\n"
       "    %y = lmc.slice %x axis 1 start 2 limit 5 : tensor<3x7xf32> -> tensor<3x3xf32>\n",
       "tensor<3x3xf32>"},
      {"slice_dynamic_rows", {{"x", "tensor<3x7xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x7xf32>\n"
       "    %d = lmc.reshape %x : tensor<3x7xf32> -> tensor<?x7xf32>\n"
       "    %y = lmc.slice %d axis 1 start 1 limit 4 : tensor<?x7xf32> -> tensor<?x3xf32>\n",
       "tensor<?x3xf32>"},
      {"cast", {{"x", kMatrix}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x4xf32>\n"
       "    %h = lmc.cast %x : tensor<3x4xf32> -> tensor<3x4xf16>\n"
       "    %y = lmc.cast %h : tensor<3x4xf16> -> tensor<3x4xf32>\n", kMatrix},
      {"broadcast_like", {{"x", "tensor<1x4xf32>"}}, "%like: tensor<?x4xf32>",
       {RealInput{{3, 4}, std::vector<double>(12, 0.0)}},
       "    %x = lmc.param_load @x : tensor<1x4xf32>\n"
       "    %y = lmc.broadcast_like %x, %like : (tensor<1x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>\n",
       "tensor<?x4xf32>"},
      {"layer_norm", {{"x", "tensor<3x6xf32>"}, {"g", "tensor<6xf32>"}, {"b", "tensor<6xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x6xf32>\n"
       "    %g = lmc.param_load @g : tensor<6xf32>\n"
       "    %b = lmc.param_load @b : tensor<6xf32>\n"
       "    %y = lmc.layer_norm %x, %g, %b epsilon 1.0e-03 : (tensor<3x6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<3x6xf32>\n",
       "tensor<3x6xf32>"},
      {"rms_norm", {{"x", "tensor<3x6xf32>"}, {"g", "tensor<6xf32>"}}, "", {},
       "    %x = lmc.param_load @x : tensor<3x6xf32>\n"
       "    %g = lmc.param_load @g : tensor<6xf32>\n"
       "    %y = lmc.rms_norm %x, %g epsilon 1.0e-03 : (tensor<3x6xf32>, tensor<6xf32>) -> tensor<3x6xf32>\n",
       "tensor<3x6xf32>"},
      {"embedding", {{"table", "tensor<5x3xf32>"}}, "%ids: tensor<2x3xi64>",
       {IntInput{{2, 3}, {0, 4, 4, 9, -1, 2}}},
       "    %table = lmc.param_load @table : tensor<5x3xf32>\n"
       "    %y = lmc.embedding %table[%ids] : (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3x3xf32>\n",
       "tensor<2x3x3xf32>"},
      bagCase("sum", false),
      bagCase("mean", false),
      bagCase("sqrtn", false),
      bagCase("mean", true),
      bagCase("sqrtn", true),
      attentionCase("attention_packed", "", 4),
      attentionCase("attention_packed_causal", "causal", 4),
      attentionCase("attention_packed_causal_grouped_query", "causal scale 0.5", 2),
      {"attention_padded_lengths",
       {{"q", "tensor<3x4x2x8xf32>"}, {"k", "tensor<3x4x2x8xf32>"}, {"v", "tensor<3x4x2x8xf32>"}},
       "%len: tensor<3xi32>", {lengths()},
       "    %q = lmc.param_load @q : tensor<3x4x2x8xf32>\n"
       "    %k = lmc.param_load @k : tensor<3x4x2x8xf32>\n"
       "    %v = lmc.param_load @v : tensor<3x4x2x8xf32>\n"
       "    %y = lmc.attention %q, %k, %v lengths(%len) causal : (tensor<3x4x2x8xf32>, "
       "tensor<3x4x2x8xf32>, tensor<3x4x2x8xf32>, tensor<3xi32>) -> tensor<3x4x2x8xf32>\n",
       "tensor<3x4x2x8xf32>"},
      {"unpad", {{"x", "tensor<3x4x5xf32>"}}, "%len: tensor<3xi32>", {lengths()},
       "    %x = lmc.param_load @x : tensor<3x4x5xf32>\n"
       "    %y, %cu = lmc.unpad %x, %len : (tensor<3x4x5xf32>, tensor<3xi32>) -> (tensor<?x5xf32>, tensor<4xi32>)\n",
       "tensor<?x5xf32>"},
      {"pad", {{"x", "tensor<8x5xf32>"}}, "%cu: tensor<4xi32>", {cuSeqlens()},
       "    %x = lmc.param_load @x : tensor<8x5xf32>\n"
       "    %y, %len = lmc.pad %x, %cu : (tensor<8x5xf32>, tensor<4xi32>) -> (tensor<3x4x5xf32>, tensor<3xi32>)\n",
       "tensor<3x4x5xf32>"},
      segmentCase("sum"),
      segmentCase("mean"),
      segmentCase("max"),
      segmentCase("first"),
      lossCase("binary_cross_entropy",
               RealInput{{3, 4}, {0, 1, 1, 0, 0.25, 1, 0, 0, 1, 1, 0.5, 0}}),
      lossCase("mean_squared_error",
               RealInput{{3, 4}, {0.5, -1, 2, 0, 1, 1, -2, 0, 3, 0.25, 0, 1}}),
      lossCase("softmax_cross_entropy", IntInput{{3, 1}, {2, 0, 3}}),
  };
  return cases;
}

// The attached losses compute what their names promise (the gradient cases
// above only show they are differentiated right).
TEST(AttachedLoss, MatchesItsFormula) {
  MLIRContext context;
  context.loadDialect<LmcDialect, func::FuncDialect>();
  std::vector<double> targets = {0, 1, 1, 0, 0.25, 1, 0, 0, 1, 1, 0.5, 0};
  std::vector<int64_t> classes = {2, 0, 3};
  for (std::string loss : {"binary_cross_entropy", "softmax_cross_entropy", "mean_squared_error"}) {
    bool ids = loss == "softmax_cross_entropy";
    std::string text = "module attributes {lmc.training = {loss = \"" + loss +
                       "\", label = \"y\"}} {\n"
                       "  lmc.parameter @z : tensor<3x4xf32> initializer {kind = \"uniform\", "
                       "min = -4.0 : f64, max = 4.0 : f64}\n"
                       "  func.func @f() -> (tensor<3x4xf32> {lmc.output = \"z\"}) {\n"
                       "    %z = lmc.param_load @z : tensor<3x4xf32>\n"
                       "    return %z : tensor<3x4xf32>\n  }\n}\n";
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
    ASSERT_TRUE(module);
    PassManager pm(&context);
    pm.addPass(createAttachLossPass());
    ASSERT_TRUE(succeeded(pm.run(*module)));
    EvalTensor label = ids ? tensorOf(IntInput{{3, 1}, classes}, context)
                           : tensorOf(RealInput{{3, 4}, targets}, context);
    eval::Parameters parameters = eval::Parameters::fromSeed(5);
    FailureOr<SmallVector<EvalTensor>> result =
        eval::evaluate(module->lookupSymbol<func::FuncOp>("f"), {label}, parameters,
                       nullptr, eval::EvalOptions{/*exact=*/true});
    ASSERT_TRUE(succeeded(result)) << loss;
    const std::vector<double> &z =
        (*parameters.get(*module->getOps<ParameterOp>().begin()))->reals;
    double expected = 0;
    for (int row = 0; row < 3; ++row) {
      double sumExp = 0;
      for (int c = 0; c < 4; ++c) {
        double logit = z[size_t(row * 4 + c)], y = targets[size_t(row * 4 + c)];
        sumExp += std::exp(logit);
        if (loss == "binary_cross_entropy") {
          double p = 1 / (1 + std::exp(-logit));
          expected -= (y * std::log(p) + (1 - y) * std::log(1 - p)) / 12;
        } else if (loss == "mean_squared_error") {
          expected += (logit - y) * (logit - y) / 12;
        }
      }
      if (ids)
        expected += (std::log(sumExp) - z[size_t(row * 4 + classes[size_t(row)])]) / 3;
    }
    EXPECT_NEAR(result->front().reals.front(), expected, 1e-12) << loss;
  }
}

// Every unary elementwise op of the dialect has a case above, so a new one
// cannot land without its gradient rule (OpTableConsistencyTest checks its
// kernels).
TEST(AutodiffCoverage, EveryUnaryElementwiseOpHasAGradientCase) {
  MLIRContext context;
  context.loadDialect<LmcDialect, func::FuncDialect>();
  std::vector<GradientCase> cases = allCases();
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "lmc" || !name.hasTrait<LmcTrait::Elementwise>() ||
        !name.hasTrait<OpTrait::SameOperandsAndResultType>())
      continue;
    std::string use = "= " + name.getStringRef().str() + " ";
    EXPECT_TRUE(llvm::any_of(cases, [&](const GradientCase &c) {
      return c.body.find(use) != std::string::npos;
    })) << name.getStringRef().str() << " has no gradient case";
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRule, AutodiffGradientTest, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<GradientCase> &info) {
                           return info.param.name;
                         });

} // namespace
} // namespace mlir::lmc
