// Tests the reference evaluator: op semantics on hand-worked values, the
// padded and packed forms of attention against each other and against the
// primitive spelling of attention, rounding to storage types, parameters,
// and run-time errors.

#include "compiler/eval/Evaluator.h"

#include "compiler/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlir::lmc::eval {
namespace {

class EvaluatorTest : public ::testing::Test {
protected:
  EvaluatorTest() {
    DialectRegistry registry;
    registerLmcDialects(registry);
    context.appendDialectRegistry(registry);
    context.getDiagEngine().registerHandler(
        [this](Diagnostic &d) { diagnostics += d.str() + "\n"; });
  }

  func::FuncOp parse(llvm::StringRef source) {
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << diagnostics;
    return module ? *module->getOps<func::FuncOp>().begin() : func::FuncOp();
  }

  FailureOr<SmallVector<EvalTensor>> run(func::FuncOp function,
                                         ArrayRef<EvalTensor> inputs,
                                         uint64_t seed = 7) {
    Parameters parameters = Parameters::fromSeed(seed);
    return evaluate(function, inputs, parameters);
  }

  static EvalTensor reals(ArrayRef<int64_t> shape, std::vector<double> data,
                          MLIRContext &context) {
    EvalTensor tensor = EvalTensor::zeros(shape, Float32Type::get(&context));
    tensor.reals = std::move(data);
    return tensor;
  }
  static EvalTensor ints(ArrayRef<int64_t> shape, std::vector<int64_t> data,
                         MLIRContext &context) {
    EvalTensor tensor = EvalTensor::zeros(shape, IntegerType::get(&context, 32));
    tensor.integers = std::move(data);
    return tensor;
  }
  EvalTensor random(ArrayRef<int64_t> shape, uint64_t seed) {
    EvalTensor tensor = EvalTensor::zeros(shape, Float32Type::get(&context));
    std::mt19937_64 engine(seed);
    for (double &value : tensor.reals)
      value = double(engine() % 2001) / 1000.0 - 1.0;
    return tensor;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::string diagnostics;
};

double maxDifference(const EvalTensor &a, const EvalTensor &b) {
  EXPECT_EQ(a.shape, b.shape);
  double worst = 0;
  for (size_t i = 0; i < a.reals.size(); ++i)
    worst = std::max(worst, std::abs(a.reals[i] - b.reals[i]));
  return worst;
}

TEST_F(EvaluatorTest, BroadcastingMatmulAndReductions) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x2xf32>, tensor<2xf32>, tensor<2x1xf32>) {
      %sum = lmc.add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      %gram = lmc.matmul %sum, %sum transpose_rhs : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x2xf32>
      %rows = lmc.reduce_sum %sum axis 1 : tensor<2x3xf32> -> tensor<2xf32>
      %max = lmc.reduce_max %sum axis 1 keep_dims : tensor<2x3xf32> -> tensor<2x1xf32>
      return %gram, %rows, %max : tensor<2x2xf32>, tensor<2xf32>, tensor<2x1xf32>
    })mlir");
  auto outputs = run(f, {reals({2, 3}, {1, 2, 3, 4, 5, 6}, context),
                         reals({3}, {1, 0, -1}, context)});
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  // sum = [[2, 2, 2], [5, 5, 5]]
  EXPECT_EQ((*outputs)[0].reals, (std::vector<double>{12, 30, 30, 75}));
  EXPECT_EQ((*outputs)[1].reals, (std::vector<double>{6, 15}));
  EXPECT_EQ((*outputs)[2].reals, (std::vector<double>{2, 5}));
}

TEST_F(EvaluatorTest, ResultsAreRoundedToTheirStorageType) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<1xf32>) -> tensor<1xf32> {
      %h = lmc.cast %x : tensor<1xf32> -> tensor<1xf16>
      %back = lmc.cast %h : tensor<1xf16> -> tensor<1xf32>
      return %back : tensor<1xf32>
    })mlir");
  auto outputs = run(f, {reals({1}, {0.1}, context)});
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  EXPECT_EQ((*outputs)[0].reals[0], 0.0999755859375); // 0.1 in f16
}

// The attention op against the primitive spelling of attention (what
// --lmc-fuse-attention will rewrite), and its causal and GQA forms.
TEST_F(EvaluatorTest, AttentionMatchesItsPrimitiveSpelling) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%q: tensor<2x5x2x4xf32>, %k: tensor<2x5x2x4xf32>, %v: tensor<2x5x2x3xf32>)
        -> (tensor<2x5x2x3xf32>, tensor<2x5x2x3xf32>) {
      %fused = lmc.attention %q, %k, %v : (tensor<2x5x2x4xf32>, tensor<2x5x2x4xf32>, tensor<2x5x2x3xf32>) -> tensor<2x5x2x3xf32>
      %qt = lmc.transpose %q [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
      %kt = lmc.transpose %k [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
      %vt = lmc.transpose %v [0, 2, 1, 3] : tensor<2x5x2x3xf32> -> tensor<2x2x5x3xf32>
      %s = lmc.matmul %qt, %kt transpose_rhs : (tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x5x5xf32>
      %half = lmc.constant dense<0.5> : tensor<f32>
      %scaled = lmc.mul %s, %half : (tensor<2x2x5x5xf32>, tensor<f32>) -> tensor<2x2x5x5xf32>
      %p = lmc.softmax %scaled axis 3 : tensor<2x2x5x5xf32>
      %o = lmc.matmul %p, %vt : (tensor<2x2x5x5xf32>, tensor<2x2x5x3xf32>) -> tensor<2x2x5x3xf32>
      %back = lmc.transpose %o [0, 2, 1, 3] : tensor<2x2x5x3xf32> -> tensor<2x5x2x3xf32>
      return %fused, %back : tensor<2x5x2x3xf32>, tensor<2x5x2x3xf32>
    })mlir");
  auto outputs = run(f, {random({2, 5, 2, 4}, 1), random({2, 5, 2, 4}, 2),
                         random({2, 5, 2, 3}, 3)});
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  EXPECT_LT(maxDifference((*outputs)[0], (*outputs)[1]), 1e-6);
}

// Padded attention with lengths equals packed attention on the real tokens.
TEST_F(EvaluatorTest, PaddedAndPackedAttentionAgree) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<3x6x2x4xf32>, %len: tensor<3xi32>) -> (tensor<?x2x4xf32>, tensor<?x2x4xf32>) {
      %padded = lmc.attention %x, %x, %x lengths(%len) causal : (tensor<3x6x2x4xf32>, tensor<3x6x2x4xf32>, tensor<3x6x2x4xf32>, tensor<3xi32>) -> tensor<3x6x2x4xf32>
      %a, %cu = lmc.unpad %padded, %len : (tensor<3x6x2x4xf32>, tensor<3xi32>) -> (tensor<?x2x4xf32>, tensor<?xi32>)
      %p, %cu2 = lmc.unpad %x, %len : (tensor<3x6x2x4xf32>, tensor<3xi32>) -> (tensor<?x2x4xf32>, tensor<?xi32>)
      %b = lmc.attention %p, %p, %p cu_seqlens(%cu2) causal : (tensor<?x2x4xf32>, tensor<?x2x4xf32>, tensor<?x2x4xf32>, tensor<?xi32>) -> tensor<?x2x4xf32>
      return %a, %b : tensor<?x2x4xf32>, tensor<?x2x4xf32>
    })mlir");
  // Lengths from 1 to S, and a full-length sequence.
  auto outputs = run(f, {random({3, 6, 2, 4}, 4), ints({3}, {1, 6, 3}, context)});
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  EXPECT_EQ((*outputs)[0].shape, (SmallVector<int64_t>{10, 2, 4}));
  EXPECT_LT(maxDifference((*outputs)[0], (*outputs)[1]), 1e-12);
}

TEST_F(EvaluatorTest, PaddingTokensDoNotChangeRealOutputs) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<2x4x1x2xf32>, %len: tensor<2xi32>) -> tensor<2x4x1x2xf32> {
      %o = lmc.attention %x, %x, %x lengths(%len) : (tensor<2x4x1x2xf32>, tensor<2x4x1x2xf32>, tensor<2x4x1x2xf32>, tensor<2xi32>) -> tensor<2x4x1x2xf32>
      return %o : tensor<2x4x1x2xf32>
    })mlir");
  EvalTensor x = random({2, 4, 1, 2}, 5), lengths = ints({2}, {2, 4}, context);
  auto before = run(f, {x, lengths});
  x.reals[4] = x.reals[5] = x.reals[6] = x.reals[7] = 100; // row 0, positions 2-3
  auto after = run(f, {x, lengths});
  ASSERT_TRUE(succeeded(before) && succeeded(after)) << diagnostics;
  // Every row, padding rows included, attends only the real keys.
  EXPECT_EQ(llvm::ArrayRef((*before)[0].reals).take_front(4),
            llvm::ArrayRef((*after)[0].reals).take_front(4));
  EXPECT_EQ(llvm::ArrayRef((*before)[0].reals).drop_front(8),
            llvm::ArrayRef((*after)[0].reals).drop_front(8));
}

TEST_F(EvaluatorTest, FeatureColumnsFollowTensorFlow) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<3x2xf32>) -> tensor<3x2xi64> {
      %b = lmc.fc.bucketize %x boundaries [0.0, 10.0, 100.0] : tensor<3x2xf32> -> tensor<3x2xi64>
      return %b : tensor<3x2xi64>
    })mlir");
  auto outputs = run(f, {reals({3, 2}, {-5, 10000, 150, 10, 5, 100}, context)});
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  EXPECT_EQ((*outputs)[0].integers, (std::vector<int64_t>{0, 3, 3, 2, 1, 3}));
}

TEST_F(EvaluatorTest, LengthsLongerThanThePaddedBatchAreReported) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<1x2x1x2xf32>, %len: tensor<1xi32>) -> tensor<1x2x1x2xf32> {
      %o = lmc.attention %x, %x, %x lengths(%len) : (tensor<1x2x1x2xf32>, tensor<1x2x1x2xf32>, tensor<1x2x1x2xf32>, tensor<1xi32>) -> tensor<1x2x1x2xf32>
      return %o : tensor<1x2x1x2xf32>
    })mlir");
  auto outputs = run(f, {random({1, 2, 1, 2}, 6), ints({1}, {3}, context)});
  EXPECT_TRUE(failed(outputs));
  EXPECT_NE(diagnostics.find("lengths[0] = 3 exceeds the padded length 2"),
            std::string::npos) << diagnostics;
}

TEST_F(EvaluatorTest, InputsAreCheckedAgainstTheSignature) {
  func::FuncOp f = parse(R"mlir(
    func.func @f(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
      return %x : tensor<?x2xf32>
    })mlir");
  EXPECT_TRUE(failed(run(f, {reals({2, 3}, std::vector<double>(6), context)})));
  EXPECT_NE(diagnostics.find("input #0 has shape [2, 3], but the argument's type is "
                             "'tensor<?x2xf32>'"),
            std::string::npos) << diagnostics;
}

TEST_F(EvaluatorTest, SeededParametersFollowTheirInitializers) {
  func::FuncOp f = parse(R"mlir(
    lmc.parameter @a : tensor<64x32xf32> initializer {kind = "glorot_uniform"}
    lmc.parameter @b : tensor<1000xf32> initializer {kind = "truncated_normal", stddev = 0.5 : f64}
    lmc.parameter @c : tensor<3xf32> initializer {kind = "ones"}
    func.func @f() -> (tensor<64x32xf32>, tensor<1000xf32>, tensor<3xf32>) {
      %a = lmc.param_load @a : tensor<64x32xf32>
      %b = lmc.param_load @b : tensor<1000xf32>
      %c = lmc.param_load @c : tensor<3xf32>
      return %a, %b, %c : tensor<64x32xf32>, tensor<1000xf32>, tensor<3xf32>
    })mlir");
  auto first = run(f, {}, 11), again = run(f, {}, 11), other = run(f, {}, 12);
  ASSERT_TRUE(succeeded(first) && succeeded(again) && succeeded(other)) << diagnostics;
  EXPECT_EQ((*first)[0].reals, (*again)[0].reals);
  EXPECT_NE((*first)[0].reals, (*other)[0].reals);
  double limit = std::sqrt(6.0 / (64 + 32));
  for (double value : (*first)[0].reals)
    EXPECT_LE(std::abs(value), limit);
  double sum = 0;
  for (double value : (*first)[1].reals) {
    EXPECT_LE(std::abs(value), 1.0 + 1e-6); // truncated at two deviations
    sum += value;
  }
  EXPECT_LT(std::abs(sum / 1000), 0.1);
  EXPECT_EQ((*first)[2].reals, (std::vector<double>{1, 1, 1}));
}

TEST_F(EvaluatorTest, ParametersFromSafetensors) {
  func::FuncOp f = parse(R"mlir(
    lmc.parameter @emb.x : tensor<2x2xf32>
    func.func @f() -> tensor<2x2xf32> {
      %w = lmc.param_load @emb.x : tensor<2x2xf32>
      return %w : tensor<2x2xf32>
    })mlir");
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("weights", "safetensors", path));
  {
    std::string header =
        R"({"emb.x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
    std::error_code error;
    llvm::raw_fd_ostream file(path, error);
    uint64_t size = header.size();
    file.write(reinterpret_cast<const char *>(&size), 8); // little-endian host
    file << header;
    float values[] = {1.5f, -2, 0.25f, 8};
    file.write(reinterpret_cast<const char *>(values), sizeof(values));
  }
  std::string error;
  auto parameters = Parameters::fromSafetensors(path, error);
  ASSERT_TRUE(succeeded(parameters)) << error;
  auto outputs = evaluate(f, {}, *parameters);
  ASSERT_TRUE(succeeded(outputs)) << diagnostics;
  EXPECT_EQ((*outputs)[0].reals, (std::vector<double>{1.5, -2, 0.25, 8}));
  llvm::sys::fs::remove(path);
}

} // namespace
} // namespace mlir::lmc::eval
