//===- lmc.cpp - the lmc command-line tool --------------------------------===//
//
// One binary, one subcommand per job: compile and eval use the compiler (MLIR);
// run, train, inspect and init-weights use the runtime alone, as an application
// embedding it would.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/CompileCommand.h"
#include "tools/lmc/EvalCommand.h"
#include "tools/lmc/InitWeightsCommand.h"
#include "tools/lmc/InspectCommand.h"
#include "tools/lmc/RunCommand.h"
#include "tools/lmc/TrainCommand.h"

#include "cpu/CpuBackend.h"
#include "io/AtomicFile.h"
#include "lmc/version.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  // Ctrl-C or a kill leaves no half-written output's temporary behind.
  lmc::rt::removeTemporariesOnSignals();
  // The LLVM libraries lmc links register dozens of code-generation flags;
  // none of them means anything to a user of lmc.
  llvm::cl::OptionCategory lmcOptions("lmc options");
  llvm::cl::HideUnrelatedOptions(lmcOptions);
  // --version names the runtime and the BLAS kernels, which decide the last
  // digits of the CPU backend's outputs on this processor.
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "lmc " << lmc_version() << "\nCPU GEMMs: " << lmc::cpu::blasKernels() << "\n";
  });
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "lmc: compiles models written in the lmc dialect or declared in a "
      "YAML spec, and runs them\n\n"
      "  lmc compile model.yaml -o model.lmcpkg [--precision=fp16] [--target=cpu]\n"
      "  lmc compile model.mlir --emit=mlir -o out.mlir\n"
      "  lmc init-weights model.lmcpkg --seed 1 -o w.safetensors\n"
      "  lmc run model.lmcpkg --weights w.safetensors --input examples.jsonl\n"
      "  lmc compile model.yaml --train --target=cpu -o train.lmcpkg\n"
      "  lmc train train.lmcpkg --data train.jsonl --steps 100 -o trained.safetensors\n"
      "  lmc inspect model.lmcpkg\n"
      "  lmc eval model.mlir --inputs in.json [--weights w.safetensors]\n");

  if (lmc::tools::compileCommand)
    return lmc::tools::runCompileCommand();
  if (lmc::tools::evalCommand)
    return lmc::tools::runEvalCommand();
  if (lmc::tools::runCommand)
    return lmc::tools::runRunCommand();
  if (lmc::tools::trainCommand)
    return lmc::tools::runTrainCommand();
  if (lmc::tools::inspectCommand)
    return lmc::tools::runInspectCommand();
  if (lmc::tools::initWeightsCommand)
    return lmc::tools::runInitWeightsCommand();

  llvm::WithColor::error(llvm::errs(), "lmc")
      << "no subcommand given; see 'lmc --help'\n";
  return 1;
}
