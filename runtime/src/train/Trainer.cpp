// Trainer.cpp - one training step over the ranks: run, combine, check,
// update, gather (see Trainer.h).

#include "train/Trainer.h"

#include <cmath>
#include <cstring>
#include <map>

namespace lmc::rt {
namespace {

bool allFinite(const float *values, size_t count) {
  bool finite = true;
  for (size_t i = 0; i < count; ++i)
    finite &= std::isfinite(values[i]);
  return finite;
}

/// Rank r's range of `total` elements: equal ceil(total / ranks) slices.
std::pair<int64_t, int64_t> rangeOf(int64_t total, int ranks, int r) {
  int64_t slice = (total + ranks - 1) / ranks;
  return {std::min(total, slice * r), std::min(total, slice * (r + 1))};
}

void appendBytes(std::vector<uint8_t> &bytes, const void *data, size_t size) {
  const auto *from = static_cast<const uint8_t *>(data);
  bytes.insert(bytes.end(), from, from + size);
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

StateBytes zeroStateBytes(int64_t parameters, int stage, int ranks) {
  auto [begin, end] = rangeOf(parameters, ranks, 0); // the largest range
  int64_t slice = end - begin;
  StateBytes bytes;
  bytes.parameters = 2 * (stage >= 3 ? slice : parameters);
  bytes.gradients = 2 * (stage >= 2 ? slice : parameters);
  bytes.optimizer = 12 * (stage >= 1 ? slice : parameters);
  return bytes;
}

std::unique_ptr<Trainer> Trainer::create(Model &model, Communicator &communicator,
                                         std::string &error) {
  const Plan &plan = model.plan();
  if (!plan.training)
    return (error = "'" + plan.name + "' is not a training package (compile it with lmc "
                    "compile --train)"),
           nullptr;
  if (plan.training->ranks != communicator.size())
    return (error = "'" + plan.name + "' was compiled for " +
                    std::to_string(plan.training->ranks) + " rank(s) (its training section's "
                    "ranks); this run has " + std::to_string(communicator.size()) +
                    " (launch it with mpirun -np " + std::to_string(plan.training->ranks) + ")"),
           nullptr;
  if (!model.hasWeights() && !plan.parameters.empty())
    return (error = "the model has no weights yet"), nullptr;
  for (const Parameter &parameter : plan.parameters)
    if (parameter.type.dtype != DType::F32)
      return (error = "parameter '" + parameter.name + "' is " + dtypeName(parameter.type.dtype) +
                      "; training updates f32 master weights"),
             nullptr;

  // ZeRO's partition of the flattened parameters.
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (const cpu::Tensor &parameter : model.parameterTensors()) {
    offsets.push_back(total);
    total += parameter.numElements();
  }
  int stage = plan.training->zeroStage, ranks = communicator.size();
  auto [begin, end] = stage == 0 ? std::pair<int64_t, int64_t>(0, total)
                                 : rangeOf(total, ranks, communicator.rank());
  std::vector<std::pair<int64_t, int64_t>> owned;
  for (size_t p = 0; p < offsets.size(); ++p) {
    int64_t first = offsets[p], last = first + model.parameterTensors()[p].numElements();
    int64_t from = std::clamp(begin, first, last), to = std::clamp(end, first, last);
    owned.push_back({from - first, std::max(from, to) - first});
  }
  std::unique_ptr<Trainer> trainer(
      new Trainer(model, communicator, *plan.training, std::move(owned)));
  trainer->offsets = std::move(offsets);
  trainer->ownedBegin = begin;
  trainer->ownedEnd = end;
  for (int r = 0; r < ranks; ++r) {
    auto [first, last] = rangeOf(total, ranks, r);
    trainer->rangeSizes.push_back(int(last - first));
  }

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

Trainer::Trainer(Model &model, Communicator &communicator, const Training &training,
                 std::vector<std::pair<int64_t, int64_t>> owned)
    : model(model), communicator(communicator), training(training),
      optimizer({training.beta1, training.beta2, training.epsilon, training.weightDecay},
                std::move(owned)),
      scaler(model.plan().precision == "fp16") {}

bool Trainer::gatherParameters(std::string &error) {
  if (parametersWhole || communicator.size() == 1)
    return parametersWhole = true;
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  std::vector<float> flat(size_t(offsets.empty() ? 0 : offsets.back() +
                                                         parameters.back().numElements()));
  std::vector<float> mine(size_t(ownedEnd - ownedBegin));
  for (size_t p = 0; p < parameters.size(); ++p)
    for (int64_t i = 0; i < parameters[p].numElements(); ++i) {
      int64_t at = offsets[p] + i;
      if (at >= ownedBegin && at < ownedEnd)
        mine[size_t(at - ownedBegin)] = parameters[p].as<float>()[i];
    }
  if (!communicator.allGather(mine.data(), flat.data(), rangeSizes, error))
    return false;
  for (size_t p = 0; p < parameters.size(); ++p)
    std::copy(flat.begin() + offsets[p], flat.begin() + offsets[p] + parameters[p].numElements(),
              parameters[p].as<float>());
  model.parametersChanged();
  return parametersWhole = true;
}

// Sums the ranks' gradients: dense ones all-reduced (stages 0 and 1) or
// reduce-scattered to the owner (stages 2 and 3) -- `gradients` then holds
// this rank's range only --, row-sparse ones all-gathered as rows.
bool Trainer::combineGradients(const std::vector<cpu::Tensor> &outputs,
                               std::vector<float> &gradients,
                               std::vector<std::vector<RowGradient>> &rows, bool &finite,
                               std::string &error) {
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  int64_t total = offsets.empty() ? 0 : offsets.back() + parameters.back().numElements();
  std::vector<float> full(size_t(total), 0.0f);
  std::vector<uint8_t> mine;
  for (size_t p = 0; p < parameters.size() && !outputs.empty(); ++p) {
    if (denseOutput[p] >= 0) {
      const cpu::Tensor &gradient = outputs[size_t(denseOutput[p])];
      std::copy(gradient.as<float>(), gradient.as<float>() + gradient.numElements(),
                full.begin() + offsets[p]);
    }
    for (auto [indices, values] : sparseParts[p]) {
      const cpu::Tensor &ids = outputs[size_t(indices)], &rowValues = outputs[size_t(values)];
      finite = finite && allFinite(rowValues.as<float>(), size_t(rowValues.numElements()));
      int64_t count = ids.numElements();
      uint64_t parameter = p;
      appendBytes(mine, &parameter, sizeof parameter);
      appendBytes(mine, &count, sizeof count);
      for (int64_t i = 0; i < count; ++i) {
        int64_t id = cpu::integerAt(ids, i);
        appendBytes(mine, &id, sizeof id);
      }
      appendBytes(mine, rowValues.data, size_t(rowValues.numElements()) * sizeof(float));
    }
  }
  finite = finite && allFinite(full.data(), full.size());
  double notFinite = finite ? 0 : 1;
  if (!communicator.allReduceSum(&notFinite, 1, error))
    return false;
  finite = notFinite == 0;

  std::vector<std::vector<uint8_t>> all;
  if (!communicator.allGatherBytes(mine, all, error))
    return false;
  rows.assign(parameters.size(), {});
  for (const std::vector<uint8_t> &bytes : all)
    for (size_t at = 0; at < bytes.size();) {
      uint64_t parameter;
      int64_t count;
      std::memcpy(&parameter, bytes.data() + at, sizeof parameter);
      std::memcpy(&count, bytes.data() + at + 8, sizeof count);
      at += 16;
      int64_t width = parameters[parameter].shape[1];
      RowGradient part;
      part.ids.resize(size_t(count));
      part.values.resize(size_t(count * width));
      std::memcpy(part.ids.data(), bytes.data() + at, size_t(count) * 8);
      at += size_t(count) * 8;
      std::memcpy(part.values.data(), bytes.data() + at, part.values.size() * sizeof(float));
      at += part.values.size() * sizeof(float);
      rows[parameter].push_back(std::move(part));
    }

  if (communicator.size() == 1) {
    gradients = std::move(full);
    return true;
  }
  if (training.zeroStage < 2) {
    gradients = std::move(full);
    return communicator.allReduceSum(gradients.data(), gradients.size(), error);
  }
  gradients.assign(size_t(ownedEnd - ownedBegin), 0.0f);
  return communicator.reduceScatterSum(full.data(), gradients.data(), rangeSizes, error);
}

bool Trainer::update(const std::vector<float> &gradients,
                     const std::vector<std::vector<RowGradient>> &rows, double scale,
                     std::string &error) {
  double rate = scheduledLearningRate(training, updates);
  optimizer.beginStep(++updates, rate);
  float unscale = float(1.0 / scale);
  // Stages 2 and 3 hold this rank's range of the gradients only.
  int64_t base = training.zeroStage >= 2 && communicator.size() > 1 ? ownedBegin : 0;
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  for (size_t p = 0; p < parameters.size(); ++p) {
    float *values = parameters[p].as<float>();
    auto [first, last] = optimizer.ownedRange(p);
    if (denseOutput[p] >= 0 && first < last)
      optimizer.applyDense(p, values + first, gradients.data() + (offsets[p] + first - base),
                           unscale);
    if (!rows[p].empty())
      optimizer.applyRows(p, values, parameters[p].shape[0], parameters[p].shape[1], rows[p],
                          unscale);
  }
  model.parametersChanged();
  if (training.zeroStage == 0 || communicator.size() == 1)
    return true;
  parametersWhole = false;
  // Stage 3 keeps only its range until the next step gathers the rest.
  return training.zeroStage == 3 || gatherParameters(error);
}

bool Trainer::step(PackedBatch &batch, StepReport &report, std::string &error) {
  if (!gatherParameters(error))
    return false;
  report = StepReport();
  report.examples = int64_t(batch.examples.size());
  report.tokens = batch.cuSeqlens.empty() ? report.examples : batch.cuSeqlens.back();
  double examples = double(report.examples);
  if (!communicator.allReduceSum(&examples, 1, error))
    return false;
  if (examples == 0)
    return (error = "the step's batch holds no examples"), false;
  double share = double(report.examples) / examples;
  double scale = forcedScale ? forcedScale : scaler.scale();
  forcedScale = 0;
  report.lossScale = scale;

  // Each rank's loss scale carries its share of the batch, so the summed
  // gradients are those of the whole batch's mean loss.
  std::vector<cpu::Tensor> outputs;
  double loss = 0;
  if (report.examples > 0) {
    batch.inputs[lossScaleInput].as<float>()[0] = float(scale * share);
    if (!model.runBatch(batch, outputs, error))
      return false;
    loss = cpu::realAt(outputs[0], 0) * share;
  }
  if (!communicator.allReduceSum(&loss, 1, error))
    return false;
  report.loss = loss;

  std::vector<float> gradients;
  std::vector<std::vector<RowGradient>> rows;
  bool finite = std::isfinite(loss);
  if (!combineGradients(outputs, gradients, rows, finite, error))
    return false;
  scaler.update(finite);
  if (!finite) {
    report.skipped = true;
    ++skipped;
    return true;
  }
  report.learningRate = scheduledLearningRate(training, updates);
  return update(gradients, rows, scale, error);
}

} // namespace lmc::rt
