// CudaTestSupport.cpp - example packages for the CUDA tests.

#include "CudaTestSupport.h"

#include "compiler/Registration.h"
#include "compiler/artifact/ArtifactWriter.h"
#include "compiler/cuda/KernelEmitter.h"

#include "../passes/PassNumerics.h"

#include "artifact/Envelope.h"
#include "cuda/CudaBackend.h"
#include "emulator/EmulatedDevice.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

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

bool loadOnCpuAndEmulatedGpu(const std::string &bytes, int arch,
                             std::unique_ptr<rt::Model> &onCpu,
                             std::unique_ptr<rt::Model> &onGpu, std::string &error) {
  onCpu = rt::Model::fromBytes(bytes, error);
  onGpu = onCpu ? rt::Model::fromBytes(bytes, error) : nullptr;
  if (!onGpu)
    return false;
  std::unique_ptr<cuda::CudaBackend> backend =
      cuda::CudaBackend::create(onGpu->plan(), error, emulatedDriver(arch));
  if (!backend)
    return false;
  onGpu->setBackend(std::move(backend));
  return true;
}

} // namespace lmc::testing
