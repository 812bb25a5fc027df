//===- CudaCodegen.cpp - CUDA C and NVRTC binaries for a package ----------===//

#include "compiler/cuda/CudaCodegen.h"

#include "compiler/cuda/KernelEmitter.h"
#include "dialects/lmc/IR/LmcOps.h"

#include "artifact/Envelope.h"
#ifdef LMC_HAVE_NVRTC
#include "cuda/Nvrtc.h"
#endif

#include "llvm/Support/Parallel.h"

#include <mutex>

namespace mlir::lmc {

bool haveNvrtc() {
#ifdef LMC_HAVE_NVRTC
  return true;
#else
  return false;
#endif
}

FailureOr<CodeByKernel> generateCudaCode(ModuleOp module, const std::string &artifact,
                                         const Target &target) {
  ::lmc::rt::Plan plan;
  std::string error;
  const uint8_t *payload = nullptr;
  size_t size = 0;
  if (!::lmc::rt::unwrapArtifact(reinterpret_cast<const uint8_t *>(artifact.data()),
                                 artifact.size(), payload, size, error) ||
      !::lmc::rt::loadPlan(payload, size, plan, error))
    return module.emitError("the package just written does not load: ") << error;
  llvm::StringMap<KernelOp> kernelOps;
  module.walk([&](KernelOp kernel) { kernelOps[kernel.getName()] = kernel; });
  auto reportAt = [&](const std::string &name, const std::string &message) {
    auto found = kernelOps.find(name);
    InFlightDiagnostic diagnostic =
        found != kernelOps.end() ? found->second.emitError() : module.emitError();
    diagnostic << message;
  };
  if (target.architecture != 0 && !haveNvrtc()) {
    module.emitError("compiling for ")
        << target.name << " needs NVRTC, and this lmc was built without the CUDA toolkit";
    return failure();
  }

  CodeByKernel code;
  for (const ::lmc::rt::Kernel &kernel : plan.kernels) {
    cuda::EmittedKernel emitted;
    if (!cuda::emitKernel(plan, kernel, emitted, error)) {
      reportAt(kernel.name, "has no CUDA form: " + error);
      return failure();
    }
    if (!emitted.source.empty())
      code[kernel.name] = {std::move(emitted.source), {}, std::move(emitted.launches)};
  }
#ifdef LMC_HAVE_NVRTC
  // NVRTC is thread-safe across programs: kernels compile in parallel.
  std::string arch = target.architecture ? "sm_" + std::to_string(target.architecture)
                                         : "compute_80";
  std::vector<KernelCode *> pending;
  std::vector<std::string> names;
  for (auto &[name, kernel] : code) {
    pending.push_back(&kernel);
    names.push_back(name);
  }
  std::mutex failureMutex;
  std::vector<std::pair<std::string, std::string>> failures;
  llvm::parallelFor(0, pending.size(), [&](size_t i) {
    ::lmc::cuda::CompiledKernel compiled;
    ::lmc::rt::Status failure;
    if (!::lmc::cuda::compileCuda(pending[i]->source, names[i], arch, compiled, failure)) {
      std::lock_guard<std::mutex> lock(failureMutex);
      failures.push_back({names[i], failure.message()});
      return;
    }
    std::string virtualArch = "compute_" + arch.substr(arch.find('_') + 1);
    pending[i]->binaries.push_back({virtualArch, "ptx", std::move(compiled.ptx)});
    if (!compiled.cubin.empty())
      pending[i]->binaries.push_back({arch, "cubin", std::move(compiled.cubin)});
  });
  if (!failures.empty()) {
    std::sort(failures.begin(), failures.end());
    reportAt(failures.front().first, "NVRTC rejected the emitted CUDA C: " +
                                         failures.front().second);
    return failure();
  }
#endif
  return code;
}

} // namespace mlir::lmc
