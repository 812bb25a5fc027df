//===- InitWeightsCommand.h - `lmc init-weights` -----------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_INITWEIGHTSCOMMAND_H
#define LMC_TOOLS_LMC_INITWEIGHTSCOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

/// The `init-weights` subcommand; its options are registered with it.
extern llvm::cl::SubCommand initWeightsCommand;

/// Runs `lmc init-weights` with the parsed options; returns the exit code.
int runInitWeightsCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_INITWEIGHTSCOMMAND_H
