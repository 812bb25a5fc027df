//===- EvalCommand.cpp - `lmc eval` ---------------------------------------===//
//
// Runs a model's function in the reference evaluator (float64) on inputs
// from a JSON file, or on examples as `lmc run` reads them, and prints the
// outputs as JSON. Parameters come from a safetensors file or are generated
// from a seed.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/EvalCommand.h"

#include "compiler/eval/Evaluator.h"
#include "compiler/eval/TensorJson.h"
#include "tools/lmc/EvalExamples.h"
#include "tools/lmc/LoadModel.h"

#include "io/ExampleJson.h"
#include "io/AtomicFile.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"


namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand evalCommand("eval",
                           "Run a model in the float64 reference evaluator");

namespace {

cl::opt<std::string> modelPath(cl::Positional,
                               cl::desc("<model.mlir | model.yaml>"),
                               cl::Required, cl::sub(evalCommand));
cl::opt<std::string> inputsPath("inputs",
                                cl::desc("JSON file of the inputs, a tensor per argument"),
                                cl::value_desc("path"), cl::sub(evalCommand));
cl::opt<std::string> examplesPath(
    "examples",
    cl::desc("JSON-lines examples, as lmc run reads them ('-' for stdin); "
             "writes one line of outputs per example"),
    cl::value_desc("path"), cl::sub(evalCommand));
cl::opt<std::string> weightsPath(
    "weights", cl::desc("safetensors file of the parameters"),
    cl::value_desc("path"), cl::sub(evalCommand));
cl::opt<uint64_t> seed("seed",
                       cl::desc("Generate parameters from their initializers "
                                "with this seed (when no --weights)"),
                       cl::init(0), cl::sub(evalCommand));
cl::opt<std::string> functionName(
    "function", cl::desc("The function to run (default: the only one)"),
    cl::value_desc("name"), cl::sub(evalCommand));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::sub(evalCommand));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "lmc eval") << message << "\n";
  return 1;
}

} // namespace

int runEvalCommand() {
  ModelSession session(modelPath, "lmc eval");
  mlir::OwningOpRef<mlir::ModuleOp> &module = session.module;
  if (!module || mlir::failed(mlir::verify(*module)))
    return 1;

  mlir::func::FuncOp function;
  for (auto candidate : module->getOps<mlir::func::FuncOp>()) {
    if (!functionName.empty() ? candidate.getSymName() == functionName
                              : !function) {
      function = candidate;
    } else if (functionName.empty()) {
      return fail("the model has several functions; name one with --function");
    }
  }
  if (!function)
    return fail(functionName.empty() ? "the model has no function"
                                     : "the model has no function '" +
                                           functionName + "'");

  if (inputsPath.empty() == examplesPath.empty())
    return fail("give --inputs (tensors) or --examples (JSON lines), one of them");
  std::string error;
  ::lmc::rt::Status status;
  mlir::FailureOr<llvm::SmallVector<mlir::lmc::eval::EvalTensor>> tensors;
  // Per example, its token count: the rows of a padded sequence output.
  std::vector<int64_t> tokens;
  if (!examplesPath.empty()) {
    std::vector<rt::Example> examples;
    if (!rt::readExamplesFile(examplesPath, examples, status))
      return fail(status.message());
    if (examples.empty())
      return fail(examplesPath + ": no examples");
    tensors = examplesToEvalInputs(function, examples, tokens, error);
    if (mlir::failed(tensors))
      return fail(error);
  } else {
    auto inputs = llvm::MemoryBuffer::getFile(inputsPath);
    if (!inputs)
      return fail("cannot read '" + inputsPath + "': " + inputs.getError().message());
    tensors = mlir::lmc::eval::parseInputs((*inputs)->getBuffer(), function, error);
    if (mlir::failed(tensors))
      return fail(inputsPath + ": " + error);
  }

  std::optional<mlir::lmc::eval::Parameters> parameters;
  if (weightsPath.empty()) {
    parameters = mlir::lmc::eval::Parameters::fromSeed(seed);
  } else {
    auto loaded = mlir::lmc::eval::Parameters::fromSafetensors(weightsPath, error);
    if (mlir::failed(loaded))
      return fail(error);
    parameters = std::move(*loaded);
  }
  auto outputs = mlir::lmc::eval::evaluate(function, *tensors, *parameters);
  if (mlir::failed(outputs))
    return 1;

  std::string text;
  llvm::raw_string_ostream os(text);
  if (examplesPath.empty())
    os << llvm::formatv("{0}", mlir::lmc::eval::outputsToJson(function, *outputs)) << "\n";
  else
    for (size_t e = 0; e < tokens.size(); ++e)
      os << exampleOutputsToJson(function, *outputs, int64_t(e), tokens[e]) << "\n";
  if (!rt::writeFileAtomically(outputPath, text, status))
    return fail(status.message());
  return 0;
}

} // namespace lmc::tools
