//===- BackendChoice.h - --backend for lmc run and lmc train ----*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_BACKENDCHOICE_H
#define LMC_TOOLS_LMC_BACKENDCHOICE_H

#include "session/Model.h"

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

enum class BackendChoice { Auto, Cpu, Cuda };

/// The --backend option's values, with their help.
llvm::cl::ValuesClass backendChoices();

/// Puts `model` on the GPU for --backend=cuda, or for auto when there is
/// one and the package has CUDA code (auto warns, as `command`, when a GPU
/// is there but cannot be used). False with `error` set when cuda was asked
/// for and cannot be had.
bool chooseBackend(rt::Model &model, BackendChoice choice, llvm::StringRef command,
                   std::string &error);

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_BACKENDCHOICE_H
