//===- EvalCommand.h - `lmc eval` -------------------------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_EVALCOMMAND_H
#define LMC_TOOLS_LMC_EVALCOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

/// The `eval` subcommand; its options are registered with it.
extern llvm::cl::SubCommand evalCommand;

/// Runs `lmc eval` with the parsed options; returns the exit code.
int runEvalCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_EVALCOMMAND_H
