// Trainer.h - runs a training package (`lmc compile --train`) step by step
// on one packed batch at a time: the compiled step computes the loss and
// every parameter's gradient, then the trainer unscales them, skips the
// step when one is not finite, and applies AdamW to the f32 master weights
// in place, with the package's learning-rate schedule.
//
// Sharding over ranks (ZeRO) and the collectives are not here yet: one
// process holds all the state.

#ifndef LMC_RUNTIME_TRAIN_TRAINER_H
#define LMC_RUNTIME_TRAIN_TRAINER_H

#include "session/Model.h"
#include "train/AdamW.h"
#include "train/LossScaler.h"

#include <memory>

namespace lmc::rt {

struct StepReport {
  double loss = 0, lossScale = 0, learningRate = 0;
  bool skipped = false;
  int64_t tokens = 0, examples = 0;
};

/// The learning rate of update `step` (0-based) under the package's
/// schedule: constant, linear warm-up to the rate over warmup_steps, or
/// that warm-up followed by a cosine decay to 0 at total_steps.
double scheduledLearningRate(const Training &training, int64_t step);

class Trainer {
public:
  /// Fails unless `model` is a training package with weights set.
  static std::unique_ptr<Trainer> create(Model &model, std::string &error);

  /// One step on `batch` (inputs built). A skipped step leaves every
  /// parameter and moment untouched.
  bool step(PackedBatch &batch, StepReport &report, std::string &error);

  int64_t stepsTaken() const { return updates + skipped; }
  int64_t skippedSteps() const { return skipped; }
  const LossScaler &lossScaler() const { return scaler; }

  /// Runs the next step's backward pass with `scale` times the loss once,
  /// as an overflow would (tests inject one this way).
  void overrideNextLossScale(double scale) { forcedScale = scale; }

private:
  Trainer(Model &model, const Training &training);

  Model &model;
  Training training;
  AdamW optimizer;
  LossScaler scaler;
  size_t lossScaleInput = 0;
  /// Per parameter: the output holding its dense gradient (-1 if none),
  /// and the (indices, rows) output pairs of its row-sparse one.
  std::vector<int> denseOutput;
  std::vector<std::vector<std::pair<int, int>>> sparseParts;
  int64_t updates = 0, skipped = 0;
  double forcedScale = 0;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_TRAINER_H
