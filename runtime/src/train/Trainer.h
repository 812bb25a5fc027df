// Trainer.h - runs a training package (`lmc compile --train`) step by step
// on one packed batch at a time, alone or as one of several ranks.
//
// The compiled step computes the loss and every parameter's gradient; the
// trainer combines the ranks' gradients, skips the step when one is not
// finite, and applies AdamW to the f32 master weights with the package's
// learning-rate schedule.
//
// With N ranks (mpirun) each rank runs its own share of the batch; its
// loss scale is weighted by its share of the examples, so summing the
// ranks' gradients gives the gradient of the whole batch's mean loss. The
// parameters' elements, flattened in plan order, are split into N equal
// ranges, ZeRO's partition; the package's zero stage says what is split:
//   0: nothing (data parallel: gradients all-reduced, every rank updates
//      everything);
//   1: optimizer state and master-weight updates (gradients all-reduced,
//      each rank updates its range, parameters all-gathered);
//   2: also gradients (reduce-scattered: each rank receives its range);
//   3: also parameters: a rank keeps its range between steps and gathers
//      the rest when the step starts.
// Row-sparse table gradients are all-gathered as rows and each rank applies
// those in its range.

#ifndef LMC_RUNTIME_TRAIN_TRAINER_H
#define LMC_RUNTIME_TRAIN_TRAINER_H

#include "session/Model.h"
#include "train/AdamW.h"
#include "collectives/Communicator.h"
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

class Trainer {
public:
  /// Fails unless `model` is a training package with weights set and
  /// `communicator` has the package's rank count.
  static std::unique_ptr<Trainer> create(Model &model, Communicator &communicator,
                                         std::string &error);

  /// One step on this rank's `batch` (inputs built). Every rank calls it
  /// once per step. A skipped step leaves every parameter and moment
  /// untouched.
  bool step(PackedBatch &batch, StepReport &report, std::string &error);

  /// Makes every parameter whole on every rank (stage 3 keeps ranges
  /// between steps): call before reading or writing the weights.
  bool gatherParameters(std::string &error);

  /// Writes this rank's shard of the training state (its range of the
  /// parameters and their moments) to `directory`, and rank 0 the index
  /// naming the shards, the model, the step and the loss scaler; every
  /// file is written whole or not at all, the index last. Collective.
  bool saveCheckpoint(const std::string &directory, std::string &error);
  /// Reads a checkpoint written by saveCheckpoint, with any rank count:
  /// each rank takes its range of the state from the shards that hold it.
  /// Refuses a checkpoint of another model or one missing a shard.
  bool loadCheckpoint(const std::string &directory, std::string &error);

  int64_t stepsTaken() const { return updates + skipped; }
  int64_t skippedSteps() const { return skipped; }
  const LossScaler &lossScaler() const { return scaler; }

  /// Runs the next step's backward pass with `scale` times the loss once,
  /// as an overflow would (tests inject one this way).
  void overrideNextLossScale(double scale) { forcedScale = scale; }

private:
  Trainer(Model &model, Communicator &communicator, const Training &training,
          std::vector<std::pair<int64_t, int64_t>> owned);

  bool combineGradients(const std::vector<cpu::Tensor> &outputs, std::vector<float> &gradients,
                        std::vector<std::vector<RowGradient>> &rows, bool &finite,
                        std::string &error);
  bool update(const std::vector<float> &gradients,
              const std::vector<std::vector<RowGradient>> &rows, double scale,
              std::string &error);

  Model &model;
  Communicator &communicator;
  Training training;
  /// Where each parameter starts among all elements, flattened in plan
  /// order; this rank's range of them; every rank's range size.
  std::vector<int64_t> offsets;
  int64_t ownedBegin = 0, ownedEnd = 0;
  std::vector<int> rangeSizes;
  AdamW optimizer;
  LossScaler scaler;
  size_t lossScaleInput = 0;
  /// Per parameter: the output holding its dense gradient (-1 if none),
  /// and the (indices, rows) output pairs of its row-sparse one.
  std::vector<int> denseOutput;
  std::vector<std::vector<std::pair<int, int>>> sparseParts;
  int64_t updates = 0, skipped = 0;
  double forcedScale = 0;
  bool parametersWhole = true;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_TRAINER_H
