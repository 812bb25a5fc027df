//===- TrainCommand.h - `lmc train` -----------------------------*- C++ -*-===//

#ifndef LMC_TOOLS_LMC_TRAINCOMMAND_H
#define LMC_TOOLS_LMC_TRAINCOMMAND_H

#include "llvm/Support/CommandLine.h"

namespace lmc::tools {

extern llvm::cl::SubCommand trainCommand;

int runTrainCommand();

} // namespace lmc::tools

#endif // LMC_TOOLS_LMC_TRAINCOMMAND_H
