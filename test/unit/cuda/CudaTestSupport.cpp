// CudaTestSupport.cpp - example packages for the CUDA tests.

#include "CudaTestSupport.h"

#include "compiler/Pipeline.h"
#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/cuda/KernelEmitter.h"
#include "frontend/SpecLoader.h"

#include "../passes/PassNumerics.h"

#include "artifact/Envelope.h"
#include "cpu/HalfFloat.h"
#include "cuda/CudaBackend.h"
#include "emulator/EmulatedDevice.h"
#include "emulator/EmulatedNccl.h"
#include "train/Trainer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lmc::testing {
namespace {

/// Compiles `module`; `code`, when set, fills in each kernel's CUDA C.
std::string compile(mlir::OwningOpRef<mlir::ModuleOp> module, mlir::lmc::CompileOptions options,
                    bool code) {
  options.formKernels = true;
  if (!module || mlir::failed(mlir::lmc::runCompilePipeline(*module, options)))
    return "";
  mlir::FailureOr<std::string> bytes = mlir::lmc::writeArtifact(*module, "test");
  rt::Plan plan;
  if (mlir::failed(bytes) || !code)
    return mlir::succeeded(bytes) ? *bytes : "";
  const uint8_t *payload = nullptr;
  size_t size = 0;
  std::string error;
  if (!rt::unwrapArtifact(reinterpret_cast<const uint8_t *>(bytes->data()), bytes->size(),
                          payload, size, error) ||
      !rt::loadPlan(payload, size, plan, error))
    return "";
  mlir::lmc::CodeByKernel kernels;
  for (const rt::Kernel &kernel : plan.kernels) {
    mlir::lmc::cuda::EmittedKernel emitted;
    if (!mlir::lmc::cuda::emitKernel(plan, kernel, emitted, error))
      return "";
    if (!emitted.source.empty())
      kernels[kernel.name] = {emitted.source, {}, emitted.launches};
  }
  bytes = mlir::lmc::writeArtifact(*module, "test", kernels);
  return mlir::succeeded(bytes) ? *bytes : "";
}

/// Compiles examples/<name>, or `source` when the name is empty.
std::string compileModel(const std::string &name, const std::string &source,
                         mlir::lmc::CompileOptions options, bool code) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  return compile(name.empty() ? mlir::parseSourceString<mlir::ModuleOp>(
                                    source, mlir::ParserConfig(&context))
                              : mlir::lmc::testing::loadExample(name, context),
                 options, code);
}

} // namespace

std::string compilePackage(const std::string &name, mlir::lmc::CompileOptions options) {
  return compileModel(name, "", options, false);
}

std::string compilePackageWithCode(const std::string &name, mlir::lmc::CompileOptions options) {
  return compileModel(name, "", options, true);
}

std::string compileExampleVariantWithCode(const std::string &name, const std::string &from,
                                          const std::string &to,
                                          mlir::lmc::CompileOptions options) {
  std::string path = LMC_SOURCE_DIR "/examples/" + name;
  auto file = llvm::MemoryBuffer::getFile(path);
  if (!file)
    return "";
  std::string text = (*file)->getBuffer().str();
  size_t at = text.find(from);
  if (at == std::string::npos)
    return "";
  text.replace(at, from.size(), to);
  return compileSpecTextWithCode(text, path, options);
}

std::string compileSpecFileWithCode(const std::string &path, mlir::lmc::CompileOptions options) {
  auto file = llvm::MemoryBuffer::getFile(path);
  return file ? compileSpecTextWithCode((*file)->getBuffer().str(), path, options) : "";
}

std::string compileSpecTextWithCode(const std::string &text, const std::string &path,
                                    mlir::lmc::CompileOptions options) {
  mlir::DialectRegistry registry;
  mlir::lmc::registerLmcDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sources;
  // Named after the example, so its relative vocabulary files are found.
  sources.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, path), llvm::SMLoc());
  return compile(::lmc::frontend::loadModelSpec(sources, context), options, true);
}

std::string compileSourceWithCode(const std::string &source, mlir::lmc::CompileOptions options) {
  return compileModel("", source, options, true);
}

bool compilePlan(const std::string &name, mlir::lmc::CompileOptions options, rt::Plan &plan) {
  std::string bytes = compilePackage(name, options);
  const uint8_t *payload = nullptr;
  size_t size = 0;
  std::string error;
  return !bytes.empty() &&
         rt::unwrapArtifact(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(),
                            payload, size, error) &&
         rt::loadPlan(payload, size, plan, error);
}

std::string compileTrainingStepWithCode(const std::string &source) {
  mlir::lmc::CompileOptions options;
  options.train = true;
  options.maxBatch = 8;
  options.maxTokens = 64;
  return compileSourceWithCode(source, options);
}

bool loadOnCpuAndEmulatedGpu(const std::string &bytes, int arch, std::unique_ptr<rt::Model> &onCpu,
                             std::unique_ptr<rt::Model> &onGpu, rt::Status &error,
                             rt::Communicator *ranks) {
  onCpu = rt::Model::fromBytes(bytes, error);
  onGpu = onCpu ? rt::Model::fromBytes(bytes, error) : nullptr;
  if (!onGpu)
    return false;
  std::unique_ptr<cuda::CudaBackend> backend = cuda::CudaBackend::create(
      onGpu->plan(), error, emulatedDriver(arch), ranks, ranks ? emulatedNccl(*ranks) : nullptr);
  if (!backend)
    return false;
  onGpu->setBackend(std::move(backend));
  if (ranks) {
    onCpu->setCommunicator(*ranks);
    onGpu->setCommunicator(*ranks);
  }
  return true;
}

void trainBothAndCompare(rt::Model &onCpu, rt::Model &onGpu, rt::Communicator &ranks,
                         const std::vector<rt::Example> &examples, int steps) {
  ::lmc::rt::Status error;
  std::vector<std::unique_ptr<rt::Trainer>> trainers;
  for (rt::Model *model : {&onCpu, &onGpu}) {
    std::vector<std::pair<std::string, cpu::Tensor>> weights;
    ASSERT_TRUE(model->generateWeights(3, weights, error)) << error;
    ASSERT_TRUE(model->setWeights({weights.begin(), weights.end()}, error)) << error;
    trainers.push_back(rt::Trainer::create(*model, ranks, error));
    ASSERT_TRUE(trainers.back()) << error;
  }
  rt::PackingOptions packing;
  for (int step = 0; step < steps; ++step)
    for (auto &trainer : trainers) {
      std::vector<rt::PackedBatch> batches;
      ASSERT_TRUE(rt::packExamples(onCpu.plan(), examples, packing, batches, error)) << error;
      rt::StepReport report;
      ASSERT_TRUE(trainer->step(batches[0], report, error)) << error;
      ASSERT_FALSE(report.skipped);
    }
  ASSERT_TRUE(onGpu.syncParameters(error)) << error;
  const rt::Plan &plan = onCpu.plan();
  for (size_t p = 0; p < plan.parameters.size(); ++p) {
    const cpu::Tensor &a = onGpu.parameterTensors()[p], &b = onCpu.parameterTensors()[p];
    ASSERT_EQ(a.shape, b.shape) << plan.parameters[p].name;
    for (int64_t i = 0; i < b.numElements(); ++i)
      EXPECT_NEAR(cpu::realAt(a, i), cpu::realAt(b, i), 1e-5 * (1 + std::fabs(cpu::realAt(b, i))))
          << plan.parameters[p].name << " element " << i << " on rank " << ranks.rank();
  }
}

bool runOnCpuAndEmulatedGpu(const rt::Plan &plan, int arch, const std::vector<cpu::Tensor> &inputs,
                            std::vector<cpu::Tensor> &expected, std::vector<cpu::Tensor> &got,
                            rt::Status &error) {
  cpu::CpuBackend reference(plan);
  std::unique_ptr<cuda::CudaBackend> device =
      cuda::CudaBackend::create(plan, error, emulatedDriver(arch));
  return device && reference.run(inputs, {}, expected, error) &&
         device->run(inputs, {}, got, error);
}

cpu::Tensor randomNormal(rt::DType dtype, std::vector<int64_t> shape, std::mt19937 &engine) {
  cpu::Tensor tensor = cpu::Tensor::owned(dtype, std::move(shape));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t i = 0; i < tensor.numElements(); ++i) {
    float value = normal(engine);
    if (dtype == rt::DType::F32)
      tensor.as<float>()[i] = value;
    else if (dtype == rt::DType::F16)
      tensor.as<uint16_t>()[i] = cpu::floatToHalf(value);
    else
      cpu::floatToBfloat(&value, &tensor.as<uint16_t>()[i], 1);
  }
  return tensor;
}

double relativeL2(const cpu::Tensor &got, const cpu::Tensor &expected, const std::string &what) {
  EXPECT_EQ(got.shape, expected.shape) << what;
  double difference = 0, norm = 0;
  for (int64_t i = 0; i < std::min(got.numElements(), expected.numElements()); ++i) {
    double a = cpu::realAt(got, i), b = cpu::realAt(expected, i);
    if (std::isnan(a)) {
      ADD_FAILURE() << what << " element " << i << " was never written";
      return std::nan("");
    }
    difference += (a - b) * (a - b);
    norm += b * b;
  }
  return std::sqrt(difference / norm);
}

} // namespace lmc::testing
