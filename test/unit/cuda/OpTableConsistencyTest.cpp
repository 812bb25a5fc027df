// OpTableConsistencyTest.cpp - every op of the lmc dialect is defined once
// and reaches every layer: it has a row in runtime/artifact/Ops.def (or a
// stated reason it never reaches a package), every row names a registered
// op, and every unary elementwise op computes the same values in the
// reference evaluator, the CPU backend and the CUDA C the emitter writes
// (on the emulated device). Adding an op without its row, or a unary op
// without its kernel on one backend, fails here. (Its gradient rule is
// checked by AutodiffGradientTest, which has a case for every such op.)

#include "CudaTestSupport.h"

#include "compiler/Registration.h"
#include "compiler/cuda/KernelEmitter.h"
#include "compiler/eval/Evaluator.h"
#include "dialects/lmc/IR/LmcOps.h"
#include "passes/autodiff/GradientBuilder.h"

#include "cpu/Tensor.h"

#include "artifact/OpTable.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

namespace {

namespace rt = ::lmc::rt;
namespace cpu = ::lmc::cpu;
namespace ops = ::lmc::ops;

/// Ops that never reach a package, and why.
const std::map<std::string, const char *> kCompilerOnly = {
    {"lmc.parameter", "a declaration: the package lists it among its parameters"},
    {"lmc.param_load", "a read of a parameter: the step's operand is the parameter itself"},
    {"lmc.kernel", "the package's kernel: its body becomes the instructions"},
    {"lmc.yield", "the kernel's results: the package's yields"},
};

/// Ops a gradient never flows through, and why.
const std::map<std::string, const char *> kNotDifferentiable = {
    {"lmc.compare", "an i1 result"},
    {"lmc.positions", "integer positions from cu_seqlens"},
    {"lmc.fc.bucketize", "ids from raw feature values"},
    {"lmc.fc.hash_bucket", "ids from fingerprints"},
    {"lmc.fc.vocab_lookup", "ids from fingerprints"},
    {"lmc.fc.identity", "ids from integers"},
    {"lmc.fc.cross", "ids from ids"},
    {"lmc.fc.numeric", "reads raw input values, which hold no parameter"},
    {"lmc.fc.indicator", "counts ids (weighted by raw input values)"},
    {"lmc.attention_grad", "itself the gradient of lmc.attention (no second order)"},
    {"lmc.all_reduce", "a training step's collective, placed after autodiff"},
    {"lmc.reduce_scatter", "a training step's collective, placed after autodiff"},
    {"lmc.all_gather", "a training step's collective, placed after autodiff"},
    {"lmc.all_gather_rows", "a training step's collective, placed after autodiff"},
    {"lmc.shard_slice", "a training step's collective, placed after autodiff"},
    {"lmc.rank", "the executing rank"},
    {"lmc.adamw_rows", "the optimizer update, placed after autodiff"},
};

class OpTable : public ::testing::Test {
protected:
  OpTable() {
    mlir::DialectRegistry registry;
    mlir::lmc::registerLmcDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }
  std::vector<mlir::RegisteredOperationName> lmcOps() {
    std::vector<mlir::RegisteredOperationName> found;
    for (mlir::RegisteredOperationName name : context.getRegisteredOperations())
      if (name.getDialectNamespace() == "lmc")
        found.push_back(name);
    return found;
  }
  mlir::MLIRContext context;
};

TEST_F(OpTable, EveryOpHasARowOrAStatedReason) {
  std::vector<mlir::RegisteredOperationName> registered = lmcOps();
  EXPECT_GE(registered.size(), 50u);
  for (mlir::RegisteredOperationName name : registered) {
    std::string text = name.getStringRef().str();
    bool row = ops::opcodeNamed(text).has_value();
    EXPECT_TRUE(row || kCompilerOnly.count(text))
        << text << " has no row in runtime/artifact/Ops.def (and is not a compiler-only op)";
    EXPECT_FALSE(row && kCompilerOnly.count(text)) << text << " is listed twice";
  }
}

// The evaluator (the reference every backend is tested against) has a rule
// for every op a package can hold, and autodiff a gradient rule for every
// such op but those listed in kNotDifferentiable. The shape rule of every
// row is checked by ShapeRules.EveryOpcodeHasARule (lmc-runtime-tests).
TEST_F(OpTable, EveryOpHasAnEvaluatorRuleAndAGradientRuleOrAStatedReason) {
  for (mlir::RegisteredOperationName name : lmcOps()) {
    std::string text = name.getStringRef().str();
    if (kCompilerOnly.count(text))
      continue;
    mlir::OperationState state(mlir::UnknownLoc::get(&context), name);
    mlir::Operation *bare = mlir::Operation::create(state);
    EXPECT_TRUE(mlir::lmc::eval::hasEvaluationRule(bare)) << text << " has no evaluator rule";
    bool gradient = mlir::lmc::autodiff::hasGradientRule(bare);
    EXPECT_NE(gradient, kNotDifferentiable.count(text) == 1)
        << text << (gradient ? " has a gradient rule and is listed as not differentiable"
                             : " has no gradient rule (and is not listed as not differentiable)");
    bare->destroy();
  }
}

TEST_F(OpTable, EveryRowNamesARegisteredOp) {
  for (const ops::OpInfo &row : ops::kOps)
    EXPECT_TRUE(mlir::RegisteredOperationName::lookup(row.name, &context).has_value())
        << "Ops.def row " << row.name << " names no op of the dialect";
}

/// A one-kernel plan: `opcode` over an f32 [2, 8] input.
rt::Plan unaryPlan(rt::Opcode opcode) {
  rt::TensorType type{rt::DType::F32, {2, 8}, {}};
  rt::Plan plan;
  plan.formatVersion = rt::kFormatVersion;
  plan.name = ops::info(opcode).name;
  plan.target = "cuda";
  plan.budget = {2, 8, 16};
  plan.values.push_back({type, rt::ValueKind::Input, 0, -1});
  plan.inputs.push_back({"x", rt::Ingest::Value, 0, {}, {}});
  plan.values.push_back({type, rt::ValueKind::Arena, -1, 0});
  plan.arenaBytes = rt::bytesUnder(type, plan.budget);
  plan.outputs.push_back({"y", "", 1});
  rt::Kernel kernel;
  kernel.name = "k0";
  kernel.kind = rt::KernelKind::Fused;
  kernel.arguments = {type};
  rt::Instruction instruction;
  instruction.opcode = opcode;
  instruction.operands = {0};
  instruction.results = {type};
  kernel.body = {instruction};
  kernel.yields = {1};
  plan.kernels = {kernel};
  plan.steps = {{rt::StepKind::Launch, 0, {0}, {1}, {}}};
  return plan;
}

/// The reference evaluator's values of `name` over `input`.
std::vector<double> evaluated(mlir::MLIRContext &context, const std::string &name,
                              const cpu::Tensor &input) {
  std::string source = "func.func @main(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {\n"
                       "  %y = \"" + name + "\"(%x) : (tensor<2x8xf32>) -> tensor<2x8xf32>\n"
                       "  return %y : tensor<2x8xf32>\n}\n";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return {};
  auto function = *module->getOps<mlir::func::FuncOp>().begin();
  mlir::lmc::eval::EvalTensor x;
  x.shape = {2, 8};
  x.elementType = mlir::Float32Type::get(&context);
  x.reals.assign(input.as<float>(), input.as<float>() + 16);
  mlir::lmc::eval::Parameters parameters;
  auto results = mlir::lmc::eval::evaluate(function, {x}, parameters);
  if (mlir::failed(results))
    return {};
  return (*results)[0].reals;
}

// Every op that is elementwise, keeps its operand's type and takes no
// attribute: the family a new activation joins (silu, say).
TEST_F(OpTable, UnaryElementwiseOpsAgreeOnEveryBackend) {
  std::mt19937 engine(3);
  std::uniform_real_distribution<float> positive(0.1f, 3.0f); // in every such op's domain
  cpu::Tensor input = cpu::Tensor::owned(rt::DType::F32, {2, 8});
  for (int64_t i = 0; i < 16; ++i)
    input.as<float>()[i] = positive(engine);
  int checked = 0;
  for (mlir::RegisteredOperationName name : lmcOps()) {
    std::optional<rt::Opcode> opcode = ops::opcodeNamed(name.getStringRef());
    if (!opcode || !name.hasTrait<mlir::lmc::LmcTrait::Elementwise>() ||
        !name.hasTrait<mlir::OpTrait::SameOperandsAndResultType>())
      continue;
    const ops::OpInfo &row = ops::info(*opcode);
    if (row.maxOperands != 1 || row.ints || row.reals)
      continue;
    SCOPED_TRACE(row.name);
    ++checked;
    EXPECT_EQ(row.cpu, ops::CpuGroup::Elementwise);
    EXPECT_EQ(row.cuda, ops::CudaForm::GatherElementwise);
    EXPECT_EQ(row.shape, ops::ShapeRule::SameAsFirst);

    rt::Plan plan = unaryPlan(*opcode);
    mlir::lmc::cuda::EmittedKernel code;
    std::string error;
    ASSERT_TRUE(mlir::lmc::cuda::emitKernel(plan, plan.kernels[0], code, error)) << error;
    plan.kernels[0].source = code.source;
    plan.kernels[0].launches = code.launches;
    std::vector<cpu::Tensor> onCpu, onGpu;
    rt::Status failure;
    ASSERT_TRUE(lmc::testing::runOnCpuAndEmulatedGpu(plan, 80, {input}, onCpu, onGpu, failure))
        << failure;
    std::vector<double> reference = evaluated(context, row.name, input);
    ASSERT_EQ(reference.size(), 16u) << "the evaluator has no rule for " << row.name;
    for (int64_t i = 0; i < 16; ++i) {
      double expected = reference[size_t(i)], tolerance = 4e-7 * std::max(1.0, std::abs(expected));
      // f32 libm and CUDA's fast paths differ from the f64 reference in
      // the last bits only.
      EXPECT_NEAR(onCpu[0].as<float>()[i], expected, tolerance) << "CPU, element " << i;
      EXPECT_NEAR(onGpu[0].as<float>()[i], expected, 4 * tolerance) << "GPU, element " << i;
    }
  }
  // neg, exp, tanh, rsqrt, erf, log, sqrt and silu at least.
  EXPECT_GE(checked, 8);
}

} // namespace
