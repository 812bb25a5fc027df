//===- RunCommand.h - `lmc run` ----------------------------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_RUNCOMMAND_H
#define LMC_TOOLS_LMC_RUNCOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

/// The `run` subcommand; its options are registered with it.
extern llvm::cl::SubCommand runCommand;

/// Runs `lmc run` with the parsed options; returns the exit code.
int runRunCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_RUNCOMMAND_H
