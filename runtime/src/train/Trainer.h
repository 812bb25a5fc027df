// Trainer.h - runs a training package (`lmc compile --train`) step by step
// on one packed batch at a time, alone or as one of several ranks.
//
// The compiled step does the work: forward, loss, backward, the ZeRO
// collectives --lmc-shard-state placed, the finite check and the AdamW
// update of the f32 master weights and moments, which the model writes back
// over its parameters. The trainer feeds it what changes from step to step
// -- the loss scale and the update's learning rate and bias corrections
// (the package's schedule) --, keeps the dynamic loss scale, and counts
// updates and skipped steps.
//
// With N ranks (mpirun) each rank runs its own share of the batch; its
// loss scale is weighted by its share of the examples, so the gradients the
// step sums over the ranks are those of the whole batch's mean loss.

#ifndef LMC_RUNTIME_TRAIN_TRAINER_H
#define LMC_RUNTIME_TRAIN_TRAINER_H

#include "Status.h"
#include "collectives/Communicator.h"
#include "session/Model.h"
#include "train/LossScaler.h"

#include <memory>

namespace lmc::rt {

struct StepReport {
  /// The mean loss of the whole batch (every rank's share).
  double loss = 0, lossScale = 0, learningRate = 0;
  bool skipped = false;
  /// This rank's share.
  int64_t tokens = 0, examples = 0;
};

/// The learning rate of update `step` (0-based) under the package's
/// schedule: constant, linear warm-up to the rate over warmup_steps, or
/// that warm-up followed by a cosine decay to 0 at total_steps.
double scheduledLearningRate(const Training &training, int64_t step);

/// Bytes a rank holds for training state under ZeRO, counted as ZeRO does
/// for mixed-precision Adam over `parameters` elements and `ranks` ranks:
/// 2-byte parameters and gradients, 12 bytes of f32 master weight and
/// moments per element, each split over the ranks from its stage on.
struct StateBytes {
  int64_t parameters = 0, gradients = 0, optimizer = 0;
  int64_t total() const { return parameters + gradients + optimizer; }
};
StateBytes zeroStateBytes(int64_t parameters, int stage, int ranks);

/// Refuses labels the package's loss cannot take, naming the example:
/// binary_cross_entropy needs each label value in [0, 1].
bool checkLabels(const Plan &plan, const std::vector<Example> &examples, rt::Status &error);

class Trainer {
public:
  /// Fails unless `model` is a training package with weights set, run over
  /// `communicator` (Model::setCommunicator) with the package's rank count.
  static std::unique_ptr<Trainer> create(Model &model, Communicator &communicator,
                                         rt::Status &error);

  /// One step on this rank's `batch` (inputs built; at least one example).
  /// Every rank calls it once per step. A skipped step leaves every
  /// parameter and moment untouched. A rank whose share of the batch is
  /// empty still runs the step's collectives: it passes any batch as a
  /// `standIn`, which counts for nothing (loss scale 0).
  bool step(PackedBatch &batch, StepReport &report, rt::Status &error, bool standIn = false);

  /// Writes this rank's shard of the training state (its slice of every
  /// parameter and of both moments) to `directory`, and rank 0 the index
  /// naming the shards, the model, the step and the loss scaler; every
  /// file is written whole or not at all, the index last. Collective.
  bool saveCheckpoint(const std::string &directory, rt::Status &error);
  /// Reads a checkpoint written by saveCheckpoint, with any rank count:
  /// each rank takes what it stores from the shards. Refuses a checkpoint
  /// of another model or one missing a shard.
  bool loadCheckpoint(const std::string &directory, rt::Status &error);

  int64_t stepsTaken() const { return updates + skipped; }
  int64_t skippedSteps() const { return skipped; }
  const LossScaler &lossScaler() const { return scaler; }

  /// Runs the next step's backward pass with `scale` times the loss once,
  /// as an overflow would (tests inject one this way).
  void overrideNextLossScale(double scale) { forcedScale = scale; }

private:
  Trainer(Model &model, Communicator &communicator, const Training &training);

  Model &model;
  Communicator &communicator;
  Training training;
  LossScaler scaler;
  size_t lossScaleInput = 0, optimizerStepInput = 0, finiteOutput = 0;
  int64_t updates = 0, skipped = 0;
  double forcedScale = 0;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_TRAINER_H
