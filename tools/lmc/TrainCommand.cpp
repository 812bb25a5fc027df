//===- TrainCommand.cpp - `lmc train` -------------------------------------===//
//
// Trains a training package (`lmc compile --train`) on JSON Lines examples:
// packs them into batches up to the packing length, cycles through the
// batches for --steps steps (one batch per step), prints a progress line per
// step and a summary, and writes the trained weights. Under `mpirun -np N`
// every rank reads the same examples and plans the same batches, then runs
// every N-th example of each batch; the trainer combines the ranks' work
// (ZeRO, see runtime/src/train/Trainer.h) and rank 0 reports and writes.
//
//===----------------------------------------------------------------------===//

#include "tools/lmc/TrainCommand.h"

#include "io/ExampleJson.h"
#include "session/Model.h"
#include "tools/lmc/OpenPackage.h"
#include "train/Trainer.h"
#include "weights/Safetensors.h"
#ifdef LMC_HAVE_MPI
#include "collectives/MpiCommunicator.h"
#endif

#include "llvm/Support/Format.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <fstream>

namespace cl = llvm::cl;

namespace lmc::tools {

cl::SubCommand trainCommand("train", "Train a training package (lmc compile --train) on "
                                     "JSON Lines examples");

namespace {

cl::opt<std::string> packagePath(cl::Positional, cl::desc("<model.lmcpkg>"), cl::Required,
                                 cl::sub(trainCommand));
cl::opt<std::string> dataPath("data", cl::desc("Training examples, one JSON object per line, "
                                               "each with the label"),
                              cl::value_desc("path"), cl::Required, cl::sub(trainCommand));
cl::opt<int64_t> steps("steps",
                       cl::desc("Steps to reach (one packed batch each), counting those of "
                                "the checkpoint it resumes from"),
                       cl::Required, cl::sub(trainCommand));
cl::opt<std::string> checkpointDir("checkpoint-dir",
                                   cl::desc("Resume from the checkpoint there, if any, and "
                                            "write one there at the end"),
                                   cl::value_desc("directory"), cl::sub(trainCommand));
cl::opt<int64_t> checkpointEvery("checkpoint-every",
                                 cl::desc("Also write a checkpoint every N steps"),
                                 cl::init(0), cl::sub(trainCommand));
cl::opt<int64_t> packingLength("packing-length",
                               cl::desc("Tokens per packed row (default: the model's "
                                        "planned sequence length)"),
                               cl::init(0), cl::sub(trainCommand));
cl::opt<std::string> weightsPath("weights", cl::desc("Initial weights (safetensors)"),
                                 cl::value_desc("path"), cl::sub(trainCommand));
cl::opt<uint64_t> seed("seed",
                       cl::desc("Without --weights: initial weights from the recorded "
                                "initializers with this seed"),
                       cl::init(0), cl::sub(trainCommand));
cl::opt<std::string> outputPath("o", cl::desc("Where to write the trained weights (safetensors)"),
                                cl::value_desc("path"), cl::sub(trainCommand));
cl::opt<int> threads("threads", cl::desc(kThreadsHelp), cl::value_desc("N"), cl::init(0),
                     cl::sub(trainCommand));
cl::opt<BackendChoice> backend("backend", cl::desc("Where to run the steps"),
                               cl::init(BackendChoice::Auto), backendChoices(),
                               cl::sub(trainCommand));
cl::opt<bool> quiet("quiet", cl::desc("Print the summary only, not a line per step"),
                    cl::init(false), cl::sub(trainCommand));

/// The ranks of this run: MPI's world under mpirun, else this process.
rt::Communicator *communicator = nullptr;

int fail(const std::string &message) {
  std::string who = "lmc train";
  if (communicator && communicator->size() > 1)
    who += " (rank " + std::to_string(communicator->rank()) + ")";
  llvm::WithColor::error(llvm::errs(), who) << message << "\n";
  if (communicator)
    communicator->abort();
  return 1;
}
int fail(const rt::Status &error) { return fail(error.message()); }

/// This rank's share of a planned batch: every size-th example from its
/// rank on, packed as a batch of its own. A rank left without examples (a
/// batch smaller than the ranks) gets the batch's first as a stand-in: it
/// still runs the step's collectives, but counts for nothing.
bool shareOf(const rt::Plan &plan, const std::vector<rt::Example> &examples,
             const rt::PackedBatch &batch, const rt::PackingOptions &packing,
             std::vector<rt::Example> &mine, rt::PackedBatch &share, bool &standIn,
             rt::Status &error) {
  mine.clear();
  for (size_t i = size_t(communicator->rank()); i < batch.examples.size();
       i += size_t(communicator->size()))
    mine.push_back(examples[batch.examples[i]]);
  share = rt::PackedBatch();
  standIn = mine.empty();
  if (standIn)
    mine.push_back(examples[batch.examples[0]]);
  std::vector<rt::PackedBatch> batches;
  if (!rt::planBatches(plan, mine, packing, batches, error))
    return false;
  if (batches.size() != 1)
    return error.fail("a rank's share of a batch does not pack into one batch");
  share = std::move(batches[0]);
  return rt::buildBatchInputs(plan, mine, packing, share, error);
}

} // namespace

int runTrainCommand() {
  if (steps <= 0)
    return fail("--steps must be positive");
  if (packingLength < 0)
    return fail("--packing-length must be positive");
  if (!weightsPath.empty() && seed.getNumOccurrences())
    return fail("give --weights or --seed, not both");
  rt::Status error;
  std::unique_ptr<rt::Communicator> ranks;
#ifdef LMC_HAVE_MPI
  if (rt::launchedByMpirun() && !(ranks = rt::mpiWorld(error)))
    return fail(error);
#endif
  if (!ranks)
    ranks = rt::singleRank();
  communicator = ranks.get();
  bool lead = communicator->rank() == 0;
  std::unique_ptr<rt::Model> model = openPackage(packagePath, threads, backend, weightsPath, seed,
                                                 "lmc train", error, communicator);
  if (!model)
    return fail(error);
  std::unique_ptr<rt::Trainer> trainer = rt::Trainer::create(*model, *communicator, error);
  if (!trainer)
    return fail(error);

  std::vector<rt::Example> examples;
  if (!rt::readExamplesFile(dataPath, examples, error))
    return fail(error);
  if (examples.empty())
    return fail("'" + dataPath + "' holds no examples");
  if (!rt::checkLabels(model->plan(), examples, error))
    return fail(error);
  rt::PackingOptions packing;
  packing.packingLength = packingLength;
  std::vector<rt::PackedBatch> batches;
  if (!rt::planBatches(model->plan(), examples, packing, batches, error))
    return fail(error);

  if (checkpointEvery < 0 || (checkpointEvery > 0 && checkpointDir.empty()))
    return fail("--checkpoint-every needs a positive count and --checkpoint-dir");
  int64_t resumed = 0;
  if (!checkpointDir.empty() &&
      std::ifstream(checkpointDir.getValue() + "/index.json").good()) {
    if (!trainer->loadCheckpoint(checkpointDir, error))
      return fail(error);
    resumed = trainer->stepsTaken();
    if (lead)
      llvm::errs() << "lmc train: resuming from step " << resumed << " of '" << checkpointDir
                   << "'\n";
  }

  if (resumed >= steps && lead)
    llvm::errs() << "lmc train: the checkpoint is at step " << resumed
                 << ", --steps asks for " << steps.getValue() << ": nothing to train\n";

  auto start = std::chrono::steady_clock::now();
  double firstLoss = 0, lastLoss = 0;
  int64_t tokens = 0;
  std::vector<rt::Example> mine;
  for (int64_t step = resumed; step < steps; ++step) {
    const rt::PackedBatch &batch = batches[size_t(step) % batches.size()];
    auto stepStart = std::chrono::steady_clock::now();
    rt::StepReport report;
    rt::PackedBatch share;
    bool standIn = false;
    if (!shareOf(model->plan(), examples, batch, packing, mine, share, standIn, error) ||
        !trainer->step(share, report, error, standIn))
      return fail("step " + std::to_string(step + 1) + ": " + error.message());
    double stepTokens = double(report.tokens);
    if (!communicator->allReduceSum(&stepTokens, 1, error))
      return fail(error);
    report.tokens = int64_t(stepTokens);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - stepStart).count();
    if (step == resumed)
      firstLoss = report.loss;
    lastLoss = report.loss;
    tokens += report.tokens;
    // The time left, from the average step so far.
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double left = elapsed / double(step + 1 - resumed) * double(steps - step - 1);
    if (!quiet && lead)
      llvm::errs() << llvm::format("step %lld/%lld  loss %.5f  scale %g  lr %.3g  %.0f tokens/s%s"
                                   "  skipped %lld  %.0f s left\n",
                                   (long long)(step + 1), (long long)steps.getValue(), report.loss,
                                   report.lossScale, report.learningRate,
                                   double(report.tokens) / std::max(seconds, 1e-9),
                                   report.skipped ? "  (skipped: gradient not finite)" : "",
                                   (long long)trainer->skippedSteps(), left);
    if (checkpointEvery > 0 && (step + 1) % checkpointEvery == 0 && step + 1 < steps &&
        !trainer->saveCheckpoint(checkpointDir, error))
      return fail(error);
  }
  if (!checkpointDir.empty() && resumed < steps &&
      !trainer->saveCheckpoint(checkpointDir, error))
    return fail(error);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!outputPath.empty()) {
    std::vector<std::pair<std::string, cpu::Tensor>> weights;
    rt::Status status;
    if (!model->wholeWeights(weights, status))
      return fail(status.message());
    if (lead && !rt::writeSafetensors(outputPath, weights, error))
      return fail(error);
  }
  if (!lead || resumed >= steps)
    return 0;
  std::string where = model->currentBackend().label();
  if (communicator->size() > 1)
    where += " x " + std::to_string(communicator->size()) + " ranks (ZeRO stage " +
             std::to_string(model->plan().training->zeroStage) + ")";
  llvm::errs() << llvm::format(
      "lmc train: %lld steps (%lld skipped) over %zu examples in %zu batches on %s in %.2f s: "
      "loss %.5f -> %.5f, %.0f tokens/s, loss scale %g\n",
      (long long)(steps.getValue() - resumed), (long long)trainer->skippedSteps(), examples.size(),
      batches.size(), where.c_str(), seconds, firstLoss, lastLoss,
      double(tokens) / std::max(seconds, 1e-9), trainer->lossScaler().scale());
  return 0;
}

} // namespace lmc::tools
