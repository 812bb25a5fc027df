// CpuBackendNumericsTest.cpp - the CPU backend against the float64
// reference evaluator, end to end: spec -> compile -> .lmcpkg bytes -> load
// -> pack random variable-length examples -> run, versus evaluating the
// uncompiled model on the same packed inputs with the same weights.

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/eval/Evaluator.h"

#include "session/Model.h"

#include "../passes/PassNumerics.h"
#include "BackendTestSupport.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

using namespace mlir;
namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;
namespace eval = mlir::lmc::eval;
namespace compiler = mlir::lmc;

eval::EvalTensor toEval(const cpu::Tensor &tensor, Type elementType) {
  auto out = eval::EvalTensor::zeros(tensor.shape, elementType);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    if (out.isInteger())
      out.integers[size_t(i)] = cpu::integerAt(tensor, i);
    else
      out.reals[size_t(i)] = cpu::realAt(tensor, i);
  }
  return out;
}

struct Case {
  const char *example;
  compiler::Precision precision;
  double bound;
};

class CpuBackendNumerics : public ::testing::TestWithParam<Case> {};

TEST_P(CpuBackendNumerics, MatchesTheFloat64Evaluator) {
  const Case &param = GetParam();
  DialectRegistry registry;
  compiler::registerLmcDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  OwningOpRef<ModuleOp> reference = mlir::lmc::testing::loadExample(param.example, context);
  ASSERT_TRUE(reference);
  OwningOpRef<ModuleOp> compiled = reference->clone();
  compiler::CompileOptions options;
  options.precision = param.precision;
  options.formKernels = true;
  // A small plan, so the examples need several batches.
  options.maxBatch = 16;
  options.maxSequence = 24;
  options.maxTokens = 96;
  ASSERT_TRUE(succeeded(compiler::runCompilePipeline(*compiled, options)));
  FailureOr<std::string> bytes = compiler::writeArtifact(*compiled, "test");
  ASSERT_TRUE(succeeded(bytes));
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromBytes(*bytes, status);
  ASSERT_TRUE(model) << status;
  auto function = *reference->getOps<func::FuncOp>().begin();

  for (uint64_t seed : {1, 2}) {
    std::vector<std::pair<std::string, cpu::Tensor>> weights;
    ASSERT_TRUE(model->generateWeights(seed, weights, status)) << status;
    ASSERT_TRUE(model->setWeights({weights.begin(), weights.end()}, status)) << status;
    std::vector<rt::Example> examples = ::lmc::testing::randomExamples(model->plan(), 37, 20, seed);
    rt::PackingOptions packing;
    std::vector<rt::ExampleOutputs> got;
    rt::RunStatistics statistics;
    ASSERT_TRUE(model->run(examples, packing, got, statistics, status)) << status;
    EXPECT_GT(statistics.batches, 0u);

    // The reference: the uncompiled model in f64 on each packed batch.
    std::vector<rt::PackedBatch> batches;
    rt::Status error;
    ASSERT_TRUE(rt::packExamples(model->plan(), examples, packing, batches, error)) << error;
    auto parameters = eval::Parameters::fromSeed(seed);
    double errorSquared = 0, normSquared = 0;
    for (const rt::PackedBatch &batch : batches) {
      SmallVector<eval::EvalTensor> inputs;
      for (auto [i, tensor] : llvm::enumerate(batch.inputs))
        inputs.push_back(toEval(tensor, llvm::cast<ShapedType>(function.getArgumentTypes()[i])
                                            .getElementType()));
      auto want = eval::evaluate(function, inputs, parameters);
      ASSERT_TRUE(succeeded(want));
      for (size_t o = 0; o < want->size(); ++o) {
        const eval::EvalTensor &expected = (*want)[o];
        int64_t row = expected.numElements() / expected.shape[0];
        for (size_t r = 0; r < batch.examples.size(); ++r) {
          const cpu::Tensor &actual = got[batch.examples[r]].outputs[o];
          ASSERT_EQ(actual.numElements(), row);
          for (int64_t i = 0; i < row; ++i) {
            double e = expected.reals[size_t(int64_t(r) * row + i)];
            errorSquared += std::pow(cpu::realAt(actual, i) - e, 2);
            normSquared += e * e;
          }
        }
      }
    }
    double relative = std::sqrt(errorSquared / normSquared);
    EXPECT_LT(relative, param.bound) << "seed " << seed;
    std::printf("%s seed %llu: rel. L2 %.3g over %zu examples in %zu batches\n",
                param.example, (unsigned long long)seed, relative, examples.size(),
                statistics.batches);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, CpuBackendNumerics,
    ::testing::Values(Case{"bst_ranker.yaml", compiler::Precision::FP32, 1e-4},
                      Case{"bst_ranker.yaml", compiler::Precision::FP16, 3e-3},
                      Case{"text_encoder.yaml", compiler::Precision::FP32, 1e-4},
                      Case{"text_encoder.yaml", compiler::Precision::FP16, 3e-3}),
    [](const ::testing::TestParamInfo<Case> &info) {
      std::string name = llvm::StringRef(info.param.example).split('.').first.str();
      return name + (info.param.precision == compiler::Precision::FP16 ? "_fp16" : "_fp32");
    });

} // namespace
