// Trainer.cpp - one training step: run, check, unscale, update (see
// Trainer.h).

#include "train/Trainer.h"

#include <cmath>
#include <cstring>
#include <map>

namespace lmc::rt {
namespace {

/// Whether every element of an f32 tensor is finite.
bool allFinite(const cpu::Tensor &tensor) {
  const float *values = tensor.as<float>();
  bool finite = true;
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    finite &= std::isfinite(values[i]);
  return finite;
}

} // namespace

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

std::unique_ptr<Trainer> Trainer::create(Model &model, std::string &error) {
  const Plan &plan = model.plan();
  if (!plan.training)
    return (error = "'" + plan.name + "' is not a training package (compile it with lmc "
                    "compile --train)"),
           nullptr;
  if (!model.hasWeights() && !plan.parameters.empty())
    return (error = "the model has no weights yet"), nullptr;
  for (const Parameter &parameter : plan.parameters)
    if (parameter.type.dtype != DType::F32)
      return (error = "parameter '" + parameter.name + "' is " + dtypeName(parameter.type.dtype) +
                      "; training updates f32 master weights"),
             nullptr;
  std::unique_ptr<Trainer> trainer(new Trainer(model, *plan.training));
  bool hasScale = false;
  for (size_t i = 0; i < plan.inputs.size(); ++i)
    if (plan.inputs[i].ingest == Ingest::LossScale) {
      trainer->lossScaleInput = i;
      hasScale = true;
    }
  if (!hasScale)
    return (error = "the training package has no loss-scale input"), nullptr;
  if (plan.outputs.empty() || plan.outputs[0].name != "loss")
    return (error = "a training package's first output is its loss"), nullptr;

  // Outputs "gradient:<name>" and "gradient:<name>:indices|rows".
  std::map<std::string, size_t> parameterIndex;
  for (size_t p = 0; p < plan.parameters.size(); ++p)
    parameterIndex[plan.parameters[p].name] = p;
  trainer->denseOutput.assign(plan.parameters.size(), -1);
  trainer->sparseParts.assign(plan.parameters.size(), {});
  for (size_t o = 1; o < plan.outputs.size(); ++o) {
    const Output &output = plan.outputs[o];
    std::string name = output.name;
    const std::string prefix = "gradient:";
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    name = name.substr(prefix.size());
    std::string part;
    for (const char *suffix : {":indices", ":rows"})
      if (name.size() > strlen(suffix) &&
          name.compare(name.size() - strlen(suffix), strlen(suffix), suffix) == 0) {
        part = suffix + 1;
        name = name.substr(0, name.size() - strlen(suffix));
      }
    auto found = parameterIndex.find(name);
    if (found == parameterIndex.end())
      return (error = "output '" + output.name + "' names no parameter"), nullptr;
    if (part.empty())
      trainer->denseOutput[found->second] = int(o);
    else if (part == "indices")
      trainer->sparseParts[found->second].push_back({int(o), int(o) + 1});
  }
  return trainer;
}

Trainer::Trainer(Model &model, const Training &training)
    : model(model), training(training),
      optimizer({training.beta1, training.beta2, training.epsilon, training.weightDecay},
                model.parameterTensors()),
      scaler(model.plan().precision == "fp16") {}

bool Trainer::step(PackedBatch &batch, StepReport &report, std::string &error) {
  double scale = forcedScale ? forcedScale : scaler.scale();
  forcedScale = 0;
  batch.inputs[lossScaleInput].as<float>()[0] = float(scale);
  std::vector<cpu::Tensor> outputs;
  if (!model.runBatch(batch, outputs, error))
    return false;
  report = StepReport();
  report.loss = cpu::realAt(outputs[0], 0);
  report.lossScale = scale;
  report.examples = int64_t(batch.examples.size());
  report.tokens = batch.cuSeqlens.empty() ? report.examples : batch.cuSeqlens.back();

  bool finite = std::isfinite(report.loss);
  for (size_t p = 0; p < denseOutput.size(); ++p) {
    if (denseOutput[p] >= 0)
      finite = finite && allFinite(outputs[size_t(denseOutput[p])]);
    for (auto [indices, rows] : sparseParts[p])
      finite = finite && allFinite(outputs[size_t(rows)]);
  }
  scaler.update(finite);
  if (!finite) {
    report.skipped = true;
    ++skipped;
    return true;
  }
  report.learningRate = scheduledLearningRate(training, updates);
  optimizer.beginStep(++updates, report.learningRate);
  float unscale = float(1.0 / scale);
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  for (size_t p = 0; p < parameters.size(); ++p) {
    if (denseOutput[p] >= 0)
      optimizer.applyDense(p, parameters[p], outputs[size_t(denseOutput[p])], unscale);
    if (sparseParts[p].empty())
      continue;
    std::vector<std::pair<const cpu::Tensor *, const cpu::Tensor *>> parts;
    for (auto [indices, rows] : sparseParts[p])
      parts.push_back({&outputs[size_t(indices)], &outputs[size_t(rows)]});
    optimizer.applyRows(p, parameters[p], parts, unscale);
  }
  return true;
}

} // namespace lmc::rt
