// Tests that --lmc-form-kernels only regroups: both examples give the same
// outputs as kernels, every op but parameters and constants sits in a
// kernel, and each matmul and attention has a kernel of its own.

#include "PassNumerics.h"

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "passes/Passes.h"

#include "dialects/lmc/IR/LmcOps.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

namespace mlir::lmc::testing {
namespace {

class FormKernelsNumerics : public ::testing::TestWithParam<const char *> {};

TEST_P(FormKernelsNumerics, KernelsComputeWhatTheOpsDid) {
  DialectRegistry registry;
  registerLmcDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> ops = loadExample(GetParam(), context);
  ASSERT_TRUE(ops);
  ASSERT_TRUE(succeeded(runCompilePipeline(*ops)));
  OwningOpRef<ModuleOp> kernels = ops->clone();
  PassManager pm(&context);
  pm.addNestedPass<func::FuncOp>(createFormKernelsPass());
  ASSERT_TRUE(succeeded(pm.run(*kernels)));

  auto function = *kernels->getOps<func::FuncOp>().begin();
  for (Operation &op : function.getBody().front())
    EXPECT_TRUE((isa<KernelOp, ParamLoadOp, ConstantOp, func::ReturnOp>(op)))
        << op.getName().getStringRef().str() << " outside a kernel";
  int gemms = 0, matmuls = 0, attentionKernels = 0, attentions = 0;
  function.walk([&](KernelOp kernel) {
    gemms += kernel.getKind() == KernelKind::gemm;
    attentionKernels += kernel.getKind() == KernelKind::attention;
  });
  (*ops)->walk([&](Operation *op) {
    matmuls += isa<MatmulOp>(op);
    attentions += isa<AttentionOp>(op);
  });
  EXPECT_EQ(gemms, matmuls);
  EXPECT_EQ(attentionKernels, attentions);

  auto original = *ops->getOps<func::FuncOp>().begin();
  auto inputs = randomInputs(original, 3, {1, kSequence, 3});
  EXPECT_EQ(worstOutputError(original, function, inputs, 3), 0);
}

INSTANTIATE_TEST_SUITE_P(Examples, FormKernelsNumerics,
                         ::testing::Values("text_encoder.yaml", "bst_ranker.yaml"));

} // namespace
} // namespace mlir::lmc::testing
