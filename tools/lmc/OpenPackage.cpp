//===- OpenPackage.cpp - a package ready to run, for run and train -------===//

#include "tools/lmc/OpenPackage.h"

#ifdef LMC_HAVE_CUDA_BACKEND
#include "cuda/CudaBackend.h"
#endif

#include "llvm/Support/WithColor.h"

namespace lmc::tools {

llvm::cl::ValuesClass backendChoices() {
  return llvm::cl::values(
      clEnumValN(BackendChoice::Auto, "auto",
                 "the GPU when there is one and the package has CUDA code, else the CPU "
                 "(default)"),
      clEnumValN(BackendChoice::Cpu, "cpu", "the host CPU"),
      clEnumValN(BackendChoice::Cuda, "cuda", "an NVIDIA GPU (an error without one)"));
}

bool chooseBackend(rt::Model &model, BackendChoice choice, llvm::StringRef command,
                   rt::Status &error, rt::Communicator *ranks) {
  if (choice == BackendChoice::Cpu ||
      (choice == BackendChoice::Auto && model.plan().target == "cpu"))
    return true;
#ifdef LMC_HAVE_CUDA_BACKEND
  rt::Status why;
  if (std::unique_ptr<cuda::CudaBackend> gpu =
          cuda::CudaBackend::create(model.plan(), why, nullptr, ranks)) {
    model.setBackend(std::move(gpu));
    return true;
  }
  // Without a driver, auto quietly means the CPU; a GPU that fails says so.
  if (choice == BackendChoice::Auto && why.message().rfind("no CUDA driver", 0) != 0)
    llvm::WithColor::warning(llvm::errs(), command)
        << "running on the CPU: " << why.message() << "\n";
  if (choice == BackendChoice::Auto)
    return true;
  error = why;
  return error.addContext("--backend=cuda");
#else
  if (choice == BackendChoice::Auto)
    return true;
  return error.fail(LMC_STATUS_UNAVAILABLE,
                    "--backend=cuda: this lmc was built without the CUDA toolkit");
#endif
}

const char *const kThreadsHelp =
    "CPU threads for GEMMs and lmc's loops, one pool (default 0: OMP_NUM_THREADS, else "
    "every processor)";

std::unique_ptr<rt::Model> openPackage(const std::string &path, int threads, BackendChoice choice,
                                       const std::string &weightsPath, uint64_t seed,
                                       llvm::StringRef command, rt::Status &error,
                                       rt::Communicator *ranks) {
  if (threads < 0 || threads > 1024) {
    error.fail("--threads must be 0 (the default) to 1024, not " + std::to_string(threads));
    return nullptr;
  }
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(path, error);
  if (!model)
    return nullptr;
  model->setThreads(threads);
  if (!chooseBackend(*model, choice, command, error, ranks))
    return nullptr;
  if (ranks)
    model->setCommunicator(*ranks);
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  bool loaded = weightsPath.empty() ? model->generateWeights(seed, weights, error) &&
                                          model->setWeights({weights.begin(), weights.end()}, error)
                                    : model->loadWeights(weightsPath, error);
  return loaded ? std::move(model) : nullptr;
}

} // namespace lmc::tools
