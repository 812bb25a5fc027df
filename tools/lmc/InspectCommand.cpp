//===- InspectCommand.cpp - `lmc inspect` ---------------------------------===//
//
// Prints what a package holds: its header, inputs and outputs, parameters,
// kernels (kind, tile shape, instructions) and the execution plan with each
// result's arena offset. The package is verified first, as the runtime
// would, so inspect also tells whether a file loads.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/InspectCommand.h"

#include "cpu/Tensor.h"
#include "session/Model.h"
#include "train/Trainer.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand inspectCommand("inspect",
                              "Print the kernels, plan, parameters and memory of a package");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::desc("<model.lmcpkg>"), cl::Required,
                                 cl::sub(inspectCommand));
cl::opt<std::string> sourceOf("source",
                              cl::desc("Print the CUDA C of one kernel (by name) instead"),
                              cl::value_desc("kernel"), cl::sub(inspectCommand));

std::string typeText(const rt::TensorType &type) {
  std::string text = "[";
  for (size_t d = 0; d < type.shape.size(); ++d) {
    std::string name = d < type.dimNames.size() ? type.dimNames[d] : "";
    text += (d ? ", " : "") +
            (type.shape[d] >= 0 ? std::to_string(type.shape[d]) : name.empty() ? "?" : name);
  }
  return text + "] " + rt::dtypeName(type.dtype);
}

const char *kindName(rt::KernelKind kind) {
  switch (kind) {
  case rt::KernelKind::Fused: return "fused";
  case rt::KernelKind::Gemm: return "gemm";
  case rt::KernelKind::Collective: return "collective";
  case rt::KernelKind::Optimizer: return "optimizer";
  case rt::KernelKind::Attention: return "attention";
  }
  return "?";
}

} // namespace

int runInspectCommand() {
  rt::Status status;
  std::unique_ptr<rt::Model> model = rt::Model::fromFile(packagePath, status);
  if (!model) {
    llvm::WithColor::error(llvm::errs(), "lmc inspect") << status.message() << "\n";
    return 1;
  }
  const rt::Plan &plan = model->plan();
  llvm::raw_ostream &os = llvm::outs();
  if (sourceOf.getNumOccurrences()) {
    for (const rt::Kernel &kernel : plan.kernels)
      if (kernel.name == sourceOf) {
        if (kernel.source.empty()) {
          llvm::WithColor::error(llvm::errs(), "lmc inspect")
              << "kernel '" << kernel.name << "' has no CUDA C ("
              << (kernel.kind == rt::KernelKind::Gemm ? "cuBLASLt runs GEMMs"
                                                      : "the package was compiled for the CPU")
              << ")\n";
          return 1;
        }
        os << kernel.source;
        return 0;
      }
    llvm::WithColor::error(llvm::errs(), "lmc inspect")
        << "the package has no kernel '" << sourceOf << "'\n";
    return 1;
  }
  os << "model " << plan.name << " (format " << plan.formatVersion << ", target "
     << plan.target << ", precision " << plan.precision << ")\n";
  os << "memory: arena of " << plan.arenaBytes << " bytes for batch " << plan.budget.batch
     << ", sequence " << plan.budget.sequence << ", tokens " << plan.budget.tokens << "\n";

  os << "\ninputs (" << plan.inputs.size() << "):\n";
  for (const rt::Input &input : plan.inputs) {
    os << "  " << input.feature << "  " << rt::ingestName(input.ingest) << "  "
       << typeText(plan.values[size_t(input.value)].type);
    if (!input.defaults.empty()) {
      os << "  default [";
      for (size_t i = 0; i < input.defaults.size(); ++i)
        os << (i ? ", " : "") << llvm::format("%g", input.defaults[i]);
      os << "]";
    }
    os << "\n";
  }
  os << "outputs (" << plan.outputs.size() << "):\n";
  for (const rt::Output &output : plan.outputs)
    os << "  " << output.name << (output.head.empty() ? "" : "  head " + output.head) << "  "
       << typeText(plan.values[size_t(output.value)].type) << "\n";

  int64_t parameterBytes = 0;
  for (const rt::Parameter &parameter : plan.parameters) {
    int64_t elements = 1;
    for (int64_t dim : parameter.type.shape)
      elements *= dim;
    parameterBytes += elements * int64_t(rt::dtypeSize(parameter.type.dtype));
  }
  if (const std::optional<rt::Training> &training = plan.training)
    os << llvm::format("training: %s on '%s'; AdamW lr %g (%s over %lld steps, total %lld), "
                       "betas %g/%g, eps %g, weight decay %g; ZeRO stage %d over %d rank%s\n",
                       training->loss.c_str(), training->label.c_str(), training->learningRate,
                       training->schedule.c_str(), (long long)training->warmupSteps,
                       (long long)training->totalSteps, training->beta1, training->beta2,
                       training->epsilon, training->weightDecay, training->zeroStage,
                       training->ranks, training->ranks == 1 ? "" : "s");
  if (const std::optional<rt::Training> &training = plan.training) {
    int64_t elements = 0;
    for (const rt::Parameter &parameter : plan.parameters) {
      if (parameter.optimizerState)
        continue;
      int64_t count = 1;
      for (int64_t dim : parameter.type.shape)
        count *= dim;
      elements += count;
    }
    rt::StateBytes bytes = rt::zeroStateBytes(elements, training->zeroStage, training->ranks);
    os << "state per rank, as ZeRO counts mixed-precision Adam (2-byte parameters and "
          "gradients, 12 bytes of f32 weight and moments per element), "
       << elements << " elements: parameters " << bytes.parameters << " + gradients "
       << bytes.gradients << " + optimizer " << bytes.optimizer << " = " << bytes.total()
       << " bytes\n";
  }
  os << "parameters (" << plan.parameters.size() << ", " << parameterBytes << " bytes):\n";
  for (const rt::Parameter &parameter : plan.parameters)
    os << "  " << parameter.name << "  " << typeText(parameter.type) << "  "
       << (parameter.initializer.empty() ? "truncated_normal" : parameter.initializer)
       << (parameter.optimizerState ? "  (optimizer moment)" : "")
       << (parameter.shardCount > 1 ? "  stored as " + std::to_string(parameter.storedElements()) +
                                          "-element shards over " +
                                          std::to_string(parameter.shardCount) + " ranks"
                                    : "")
       << "\n";

  os << "kernels (" << plan.kernels.size() << "):\n";
  for (const rt::Kernel &kernel : plan.kernels) {
    os << "  " << kernel.name << "  " << kindName(kernel.kind);
    if (kernel.kind == rt::KernelKind::Attention)
      os << "  tile " << kernel.blockQ << "x" << kernel.blockK;
    os << "  ";
    for (size_t i = 0; i < kernel.body.size(); ++i)
      os << (i ? ", " : "") << rt::opcodeName(kernel.body[i].opcode);
    if (!kernel.launches.empty()) {
      os << "  [cuda: " << kernel.launches.size() << " entry point"
         << (kernel.launches.size() == 1 ? "" : "s");
      for (const rt::Binary &binary : kernel.binaries)
        os << ", " << binary.format << " " << binary.arch;
      os << "]";
    }
    os << "\n";
  }

  os << "plan (" << plan.steps.size() << " steps):\n";
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const rt::Step &step = plan.steps[s];
    os << llvm::format("  %3zu ", s) << plan.kernels[size_t(step.kernel)].name << " ->";
    for (int result : step.results) {
      const rt::Value &value = plan.values[size_t(result)];
      os << " %" << result << " " << typeText(value.type) << " @" << value.offset;
    }
    os << "\n";
  }
  return 0;
}

} // namespace lmc::tools
