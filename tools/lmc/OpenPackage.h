//===- OpenPackage.h - a package ready to run, for run and train -*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_OPENPACKAGE_H
#define LMC_TOOLS_LMC_OPENPACKAGE_H

#include "session/Model.h"

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

enum class BackendChoice { Auto, Cpu, Cuda };

/// The --backend option's values, with their help.
llvm::cl::ValuesClass backendChoices();

/// Puts `model` on the GPU for --backend=cuda, or for auto when there is
/// one and the package has CUDA code (auto warns, as `command`, when a GPU
/// is there but cannot be used). False with `error` set when cuda was asked
/// for and cannot be had. A package training over several ranks needs the
/// process's `ranks` on the GPU (a GPU per rank, collectives over NCCL).
bool chooseBackend(rt::Model &model, BackendChoice choice, llvm::StringRef command,
                   rt::Status &error, rt::Communicator *ranks = nullptr);

/// The --threads option's help (run and train declare their own option).
extern const char *const kThreadsHelp;

/// Loads the package at `path`, computing on `threads` CPU threads (0: the
/// default; see Model::setThreads), puts it on its backend (chooseBackend)
/// and gives it weights: the safetensors file `weightsPath`, or, when that is
/// empty, values generated from the recorded initializers with `seed`.
/// Null with `error` set on any failure. A training run passes its
/// `ranks` (Model::setCommunicator), which a model sharding its parameters
/// needs before its weights.
std::unique_ptr<rt::Model> openPackage(const std::string &path, int threads, BackendChoice choice,
                                       const std::string &weightsPath, uint64_t seed,
                                       llvm::StringRef command, rt::Status &error,
                                       rt::Communicator *ranks = nullptr);

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_OPENPACKAGE_H
