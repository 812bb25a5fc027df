// Trainer.cpp - one training step over the ranks: feed the step's scalars,
// run, keep the loss scale (see Trainer.h).

#include "train/Trainer.h"

#include <cmath>

namespace lmc::rt {

double scheduledLearningRate(const Training &training, int64_t step) {
  double rate = training.learningRate;
  if (training.schedule == "constant")
    return rate;
  if (step < training.warmupSteps)
    return rate * double(step + 1) / double(training.warmupSteps);
  if (training.schedule == "linear_warmup")
    return rate;
  // Cosine: from the rate after warm-up down to 0 at total_steps.
  double span = double(training.totalSteps - training.warmupSteps);
  double progress = std::min(1.0, double(step - training.warmupSteps) / span);
  return rate * 0.5 * (1 + std::cos(M_PI * progress));
}

bool checkLabels(const Plan &plan, const std::vector<Example> &examples, rt::Status &error) {
  if (!plan.training || plan.training->loss != "binary_cross_entropy")
    return true;
  const std::string &label = plan.training->label;
  for (const Example &example : examples) {
    auto found = example.features.find(label);
    if (found == example.features.end())
      continue; // the packer names a missing label
    const FeatureValue &value = found->second;
    for (size_t i = 0; i < value.size(); ++i) {
      double y = value.kind == FeatureValue::Kind::Integers ? double(value.integers[i])
                 : value.kind == FeatureValue::Kind::Reals  ? value.reals[i]
                                                            : -1;
      if (!(y >= 0 && y <= 1)) {
        return error.fail(
            example.origin + ": label '" + label + "' is " +
            (value.kind == FeatureValue::Kind::Strings ? "a string" : std::to_string(y)) +
            "; binary_cross_entropy takes labels in [0, 1]");
      }
    }
  }
  return true;
}

StateBytes zeroStateBytes(int64_t parameters, int stage, int ranks) {
  int64_t slice = (parameters + ranks - 1) / ranks;
  StateBytes bytes;
  bytes.parameters = 2 * (stage >= 3 ? slice : parameters);
  bytes.gradients = 2 * (stage >= 2 ? slice : parameters);
  bytes.optimizer = 12 * (stage >= 1 ? slice : parameters);
  return bytes;
}

std::unique_ptr<Trainer> Trainer::create(Model &model, Communicator &communicator,
                                         rt::Status &error) {
  const Plan &plan = model.plan();
  if (!plan.training)
    return error.fail("'" + plan.name +
                      "' is not a training package (compile it with lmc "
                      "compile --train)"),
           nullptr;
  if (plan.training->ranks != communicator.size())
    return error.fail("'" + plan.name + "' was compiled for " +
                      std::to_string(plan.training->ranks) +
                      " rank(s) (its training section's "
                      "ranks); this run has " +
                      std::to_string(communicator.size()) + " (launch it with mpirun -np " +
                      std::to_string(plan.training->ranks) + ")"),
           nullptr;
  if (!model.hasWeights() && !plan.parameters.empty())
    return error.fail("the model has no weights yet"), nullptr;
  model.setCommunicator(communicator);
  std::unique_ptr<Trainer> trainer(new Trainer(model, communicator, *plan.training));
  bool scale = false, optimizerStep = false, finite = false;
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    if (plan.inputs[i].ingest == Ingest::LossScale) {
      trainer->lossScaleInput = i;
      scale = true;
    }
    if (plan.inputs[i].ingest == Ingest::OptimizerStep) {
      trainer->optimizerStepInput = i;
      optimizerStep = true;
    }
  }
  for (size_t o = 0; o < plan.outputs.size(); ++o)
    if (plan.outputs[o].name == "finite") {
      trainer->finiteOutput = o;
      finite = true;
    }
  if (!scale || !optimizerStep || !finite || plan.outputs[0].name != "loss")
    return error.fail("the training package lacks its loss scale or optimizer step input, or its "
                      "loss or finite output (recompile it with lmc compile --train)"),
           nullptr;
  return trainer;
}

Trainer::Trainer(Model &model, Communicator &communicator, const Training &training)
    : model(model), communicator(communicator), training(training),
      scaler(model.plan().precision == "fp16") {}

bool Trainer::step(PackedBatch &batch, StepReport &report, rt::Status &error, bool standIn) {
  report = StepReport();
  if (batch.examples.empty())
    return error.fail("the step's batch holds no examples");
  if (!standIn) {
    report.examples = int64_t(batch.examples.size());
    report.tokens = batch.cuSeqlens.empty() ? report.examples : batch.cuSeqlens.back();
  }
  double examples = double(report.examples);
  if (!communicator.allReduceSum(&examples, 1, error))
    return false;
  if (examples == 0)
    return error.fail("no rank has examples for the step");
  double share = double(report.examples) / examples;
  double scale = forcedScale ? forcedScale : scaler.scale();
  forcedScale = 0;
  report.lossScale = scale;
  report.learningRate = scheduledLearningRate(training, updates);

  // Each rank's loss scale carries its share of the batch, so the summed
  // gradients are those of the whole batch's mean loss; the update divides
  // the scale back out. Bias corrections are those of update number t.
  batch.inputs[lossScaleInput].as<float>()[0] = float(scale * share);
  double t = double(updates + 1);
  float *optimizerStep = batch.inputs[optimizerStepInput].as<float>();
  optimizerStep[0] = float(report.learningRate);
  optimizerStep[1] = float(1 / (1 - std::pow(training.beta1, t)));
  optimizerStep[2] = float(1 / std::sqrt(1 - std::pow(training.beta2, t)));
  optimizerStep[3] = float(1 / scale);
  std::vector<cpu::Tensor> outputs;
  if (!model.runBatch(batch, outputs, error))
    return false;
  double loss = standIn ? 0 : cpu::realAt(outputs[0], 0) * share;
  if (!communicator.allReduceSum(&loss, 1, error))
    return false;
  report.loss = loss;
  // The step's finite check covers every rank's gradients.
  bool finite = cpu::realAt(outputs[finiteOutput], 0) == 1;
  scaler.update(finite);
  report.skipped = !finite;
  ++(finite ? updates : skipped);
  return true;
}

} // namespace lmc::rt
