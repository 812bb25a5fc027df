//===- InitWeightsCommand.cpp - `lmc init-weights` ------------------------===//
//
// Writes a safetensors file of every parameter of a package, generated from
// the initializers recorded in it (the values `lmc eval --seed` uses).
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/InitWeightsCommand.h"

#include "session/Model.h"
#include "weights/Safetensors.h"

#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand initWeightsCommand("init-weights",
                                  "Generate a model's weights from its recorded initializers");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::desc("<model.lmcpkg>"), cl::Required,
                                 cl::sub(initWeightsCommand));
cl::opt<uint64_t> seed("seed", cl::desc("Random seed"), cl::init(0),
                       cl::sub(initWeightsCommand));
cl::opt<std::string> outputPath("o", cl::desc("Output safetensors file"),
                                cl::value_desc("path"), cl::Required,
                                cl::sub(initWeightsCommand));

} // namespace

int runInitWeightsCommand() {
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(packagePath, status);
  if (!model || !model->writeGeneratedWeights(seed, outputPath, status)) {
    llvm::WithColor::error(llvm::errs(), "lmc init-weights") << status.message() << "\n";
    return 1;
  }
  return 0;
}

} // namespace lmc::tools
