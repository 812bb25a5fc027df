//===- CompileCommand.h - `lmc compile` -------------------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_COMPILECOMMAND_H
#define LMC_TOOLS_LMC_COMPILECOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

/// The `compile` subcommand; its options are registered with it.
extern llvm::cl::SubCommand compileCommand;

/// Runs `lmc compile` with the parsed options; returns the exit code.
int runCompileCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_COMPILECOMMAND_H
