//===- InspectCommand.h - `lmc inspect` --------------------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_INSPECTCOMMAND_H
#define LMC_TOOLS_LMC_INSPECTCOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

/// The `inspect` subcommand; its options are registered with it.
extern llvm::cl::SubCommand inspectCommand;

/// Runs `lmc inspect` with the parsed options; returns the exit code.
int runInspectCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_INSPECTCOMMAND_H
