//===- RunCommand.cpp - `lmc run` -----------------------------------------===//
//
// Loads a package and its weights, then streams JSON Lines examples: a
// window at a time is read, packed and run through the runtime (the same
// rt::Model the C API wraps), and one JSON line of outputs per example is
// written, in input order. A summary with the throughput goes to stderr.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/RunCommand.h"

#include "io/AtomicFile.h"
#include "io/ExampleJson.h"
#include "io/OutputJson.h"
#include "session/Model.h"
#include "tools/lmc/OpenPackage.h"
#include "tools/lmc/Progress.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <fstream>
#include <future>
#include <iostream>

namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand runCommand("run", "Run a compiled model (.lmcpkg) on JSON Lines examples");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::desc("<model.lmcpkg>"), cl::Required,
                                 cl::sub(runCommand));
cl::opt<std::string> weightsPath("weights", cl::desc("Weights (safetensors)"),
                                 cl::value_desc("path"), cl::sub(runCommand));
cl::opt<uint64_t> seed("seed",
                       cl::desc("Without --weights: generate them from the recorded "
                                "initializers with this seed"),
                       cl::init(0), cl::sub(runCommand));
cl::opt<std::string> inputPath("input", cl::desc("Examples, one JSON object per line ('-' for stdin)"),
                               cl::value_desc("path"), cl::Required, cl::sub(runCommand));
cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' for stdout)"),
                                cl::value_desc("path"), cl::init("-"), cl::sub(runCommand));
cl::opt<int64_t> packingLength("packing-length",
                               cl::desc("Tokens per packed row (default: the model's "
                                        "planned sequence length)"),
                               cl::init(0), cl::sub(runCommand));
cl::opt<rt::OverlongPolicy> overlong(
    "overlong", cl::desc("A sequence longer than the packing length"),
    cl::init(rt::OverlongPolicy::Error),
    cl::values(clEnumValN(rt::OverlongPolicy::Error, "error", "fails the run (default)"),
               clEnumValN(rt::OverlongPolicy::Truncate, "truncate",
                          "keeps its first tokens"),
               clEnumValN(rt::OverlongPolicy::Alone, "alone", "runs in a row of its own")),
    cl::sub(runCommand));
cl::opt<size_t> windowSize("window",
                          cl::desc("Examples read, packed and run at a time (memory stays "
                                   "bounded by it; packing is done within it)"),
                          cl::init(4096), cl::sub(runCommand));
cl::opt<bool> showProgress("progress",
                           cl::desc("A progress line on stderr even when it is not a terminal"),
                           cl::init(false), cl::sub(runCommand));
cl::opt<int> threads("threads", cl::desc(kThreadsHelp), cl::value_desc("N"), cl::init(0),
                     cl::sub(runCommand));
cl::opt<BackendChoice> backend("backend", cl::desc("Where to run"),
                               cl::init(BackendChoice::Auto), backendChoices(),
                               cl::sub(runCommand));

int fail(const std::string &message) {
  llvm::WithColor::error(llvm::errs(), "lmc run") << message << "\n";
  return 1;
}
int fail(const rt::Status &error) { return fail(error.message()); }

} // namespace

int runRunCommand() {
  if (packingLength < 0)
    return fail("--packing-length must be positive");
  if (windowSize == 0)
    return fail("--window must be positive");
  if (!weightsPath.empty() && seed.getNumOccurrences())
    return fail("give --weights or --seed, not both");
  // Random weights are never what a served model means by accident.
  if (weightsPath.empty() && !seed.getNumOccurrences())
    return fail("give --weights FILE (trained weights), or --seed N to run on random weights "
                "generated from the recorded initializers");
  rt::Status error;
  std::unique_ptr<rt::Model> model =
      openPackage(packagePath, threads, backend, weightsPath, seed, "lmc run", error);
  if (!model)
    return fail(error);
  for (const rt::Input &input : model->plan().inputs)
    if (input.ingest == rt::Ingest::LossScale || input.ingest == rt::Ingest::OptimizerStep)
      return fail("'" + packagePath + "' is a training package (compiled with --train): use lmc "
                  "train, or compile the model without --train to serve it");

  rt::ExampleStream input;
  if (!input.open(inputPath, error))
    return fail(error);
  rt::OutputFile output;
  if (!output.open(outputPath, error))
    return fail(error);

  // A window of examples at a time: read, pack, run, write. Memory stays
  // bounded whatever the input's length (two windows), and outputs (in
  // input order) appear while the input is still being read. From a file,
  // the next window is parsed on a second thread while this one runs (a bad
  // line in it is reported after this window's outputs are written); a pipe
  // is read only between runs, so a failed run never waits on its writer.
  rt::PackingOptions options;
  options.packingLength = packingLength;
  options.overlong = overlong;
  Progress progress("lmc run", showProgress);
  rt::RunStatistics total;
  uint64_t count = 0;
  struct Window {
    std::vector<rt::Example> examples;
    rt::Status error;
    bool ok = true;
  };
  auto readWindow = [&input, size = size_t(windowSize)] {
    Window next;
    next.ok = input.read(size, next.examples, next.error);
    return next;
  };
  auto launch = input.inputBytes() > 0 ? std::launch::async : std::launch::deferred;
  auto start = std::chrono::steady_clock::now();
  std::future<Window> pending = std::async(launch, readWindow);
  for (;;) {
    Window current = pending.get();
    if (!current.ok)
      return fail(current.error);
    // Progress reads the stream's position: only while no read is running.
    progress.update(count, total.tokens, input.bytesRead(), input.inputBytes());
    std::vector<rt::Example> &window = current.examples;
    if (window.empty())
      break;
    pending = std::async(launch, readWindow);
    std::vector<rt::ExampleOutputs> results;
    rt::RunStatistics statistics;
    rt::Status status;
    if (!model->run(window, options, results, statistics, status))
      return fail(status.message());
    std::string text;
    for (const rt::ExampleOutputs &example : results)
      text += rt::outputsToJson(model->plan(), example) + "\n";
    if (!output.write(text, error))
      return fail(error);
    total.batches += statistics.batches;
    total.rows += statistics.rows;
    total.tokens += statistics.tokens;
    count += window.size();
  }
  if (!output.commit(error))
    return fail(error);
  progress.finish();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  llvm::errs() << llvm::format(
      "lmc run: %llu examples in %zu batches (%zu rows, %lld tokens) on %s in %.3f s: "
      "%.0f examples/s, %.0f tokens/s\n",
      (unsigned long long)count, total.batches, total.rows, (long long)total.tokens,
      model->currentBackend().label().c_str(), seconds, double(count) / std::max(seconds, 1e-9),
      double(total.tokens) / std::max(seconds, 1e-9));
  return 0;
}

} // namespace lmc::tools
