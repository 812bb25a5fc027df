//===- lmc.cpp - the lmc command-line tool --------------------------------===//
//
// One binary, one subcommand per job. A subcommand is listed in `--help` only
// once it does its job: `run` and `inspect` join `compile` and `eval` when the
// runtime and the package format exist.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/CompileCommand.h"
#include "tools/lmc/EvalCommand.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // The LLVM libraries lmc links register dozens of code-generation flags;
  // none of them means anything to a user of lmc.
  llvm::cl::OptionCategory lmcOptions("lmc options");
  llvm::cl::HideUnrelatedOptions(lmcOptions);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "lmc: compiles models written in the lmc dialect or declared in a "
      "YAML spec\n\n"
      "  lmc compile model.mlir --emit=mlir -o out.mlir\n"
      "  lmc compile model.yaml --emit=mlir -o out.mlir\n"
      "  lmc eval model.mlir --inputs in.json [--weights w.safetensors]\n");

  if (lmc::tools::compileCommand)
    return lmc::tools::runCompileCommand();
  if (lmc::tools::evalCommand)
    return lmc::tools::runEvalCommand();

  llvm::WithColor::error(llvm::errs(), "lmc")
      << "no subcommand given; see 'lmc --help'\n";
  return 1;
}
