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
                   std::string &error, rt::Communicator *ranks) {
  if (choice == BackendChoice::Cpu ||
      (choice == BackendChoice::Auto && model.plan().target == "cpu"))
    return true;
#ifdef LMC_HAVE_CUDA_BACKEND
  std::string why;
  if (std::unique_ptr<cuda::CudaBackend> gpu = cuda::CudaBackend::create(model.plan(), why, nullptr, ranks)) {
    model.setBackend(std::move(gpu));
    return true;
  }
  // Without a driver, auto quietly means the CPU; a GPU that fails says so.
  if (choice == BackendChoice::Auto && why.rfind("no CUDA driver", 0) != 0)
    llvm::WithColor::warning(llvm::errs(), command) << "running on the CPU: " << why << "\n";
  if (choice == BackendChoice::Auto)
    return true;
  error = "--backend=cuda: " + why;
#else
  if (choice == BackendChoice::Auto)
    return true;
  error = "--backend=cuda: this lmc was built without the CUDA toolkit";
#endif
  return false;
}

std::unique_ptr<rt::Model> openPackage(const std::string &path, BackendChoice choice,
                                       const std::string &weightsPath, uint64_t seed,
                                       llvm::StringRef command, std::string &error,
                                       rt::Communicator *ranks) {
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(path, status);
  if (!model)
    return (error = status.message()), nullptr;
  if (!chooseBackend(*model, choice, command, error, ranks))
    return nullptr;
  if (ranks)
    model->setCommunicator(*ranks);
  std::vector<std::pair<std::string, cpu::Tensor>> weights;
  bool loaded = weightsPath.empty()
                    ? model->generateWeights(seed, weights, status) &&
                          model->setWeights({weights.begin(), weights.end()}, status)
                    : model->loadWeights(weightsPath, status);
  if (!loaded)
    return (error = status.message()), nullptr;
  return model;
}

} // namespace lmc::tools
