// Checkpoint.cpp - sharded training checkpoints (Trainer::saveCheckpoint,
// Trainer::loadCheckpoint).
//
// A checkpoint is a directory: one safetensors shard per rank and
// index.json. Every weight, and each of its Adam moments, is a flattened
// vector of n elements split into ceil(n / ranks) slices as ZeRO splits it;
// rank r's shard holds slice r of each, as "<name>", "<name>.adam_m" and
// "<name>.adam_v" (1-D). The index:
//   {"format": "lmc-checkpoint-2", "model": ..., "parameters": [{"name",
//    "shape"}], "step": ..., "updates": ..., "skipped": ...,
//    "loss_scale": ..., "clean_steps": ..., "shards": [file, ...]}
// with the shards in rank order. Shard names carry the step, and the index
// is written last (atomically), so a crash mid-save leaves the previous
// checkpoint readable. Loading assembles each vector from the shards and
// keeps what this rank stores (all of it, or its shard): any rank count
// reads any checkpoint.

#include "train/Trainer.h"

#include "io/AtomicFile.h"
#include "weights/Safetensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace lmc::rt {
namespace {

using Json = nlohmann::json;

std::string shardName(int64_t step, int rank, int ranks) {
  return "step-" + std::to_string(step) + "-rank-" + std::to_string(rank) + "-of-" +
         std::to_string(ranks) + ".safetensors";
}

/// Slice `rank` of a flattened vector of `elements` over `ranks`.
std::pair<int64_t, int64_t> sliceOf(int64_t elements, int ranks, int rank) {
  int64_t slice = (elements + ranks - 1) / ranks;
  return {std::min(elements, slice * rank), std::min(elements, slice * (rank + 1))};
}

/// One vector of a weight's training state: the weight or a moment.
struct StatePart {
  int parameter;    // its index among the plan's parameters
  std::string name; // "<weight>", "<weight>.adam_m" or "<weight>.adam_v"
  bool sharded;     // the rank stores its slice (else all of it)
};

/// A weight of the model and the parts of its state the plan holds.
struct WeightState {
  const Parameter *weight;
  int64_t elements;
  std::vector<StatePart> parts;
};

/// Moments are sharded from ZeRO stage 1 on (--lmc-shard-state), weights
/// at stage 3 (their shard count).
std::vector<WeightState> weightStates(const Plan &plan, bool shardedMoments) {
  std::map<std::string, int> index;
  for (size_t p = 0; p < plan.parameters.size(); ++p)
    index[plan.parameters[p].name] = int(p);
  std::vector<WeightState> states;
  for (size_t p = 0; p < plan.parameters.size(); ++p) {
    const Parameter &weight = plan.parameters[p];
    if (weight.optimizerState)
      continue;
    WeightState state{&weight, 1, {{int(p), weight.name, weight.shardCount > 1}}};
    for (int64_t dim : weight.type.shape)
      state.elements *= dim;
    for (const char *suffix : {".adam_m", ".adam_v"})
      if (auto found = index.find(weight.name + suffix); found != index.end())
        state.parts.push_back({found->second, found->first, shardedMoments});
    states.push_back(std::move(state));
  }
  return states;
}

} // namespace

bool Trainer::saveCheckpoint(const std::string &directory, rt::Status &error) {
  std::error_code code;
  std::filesystem::create_directories(directory, code);
  if (code)
    return error.fail("cannot create '" + directory + "': " + code.message());
  const Plan &plan = model.plan();
  if (!model.syncParameters(error))
    return false;
  std::vector<cpu::Tensor> &stored = model.parameterTensors();
  int rank = communicator.rank(), ranks = communicator.size();
  std::vector<WeightState> states = weightStates(plan, training.zeroStage >= 1 && ranks > 1);
  int64_t step = updates + skipped;
  std::vector<std::pair<std::string, cpu::Tensor>> tensors;
  for (const WeightState &state : states) {
    auto [begin, end] = sliceOf(state.elements, ranks, rank);
    for (const StatePart &part : state.parts) {
      const cpu::Tensor &from = stored[size_t(part.parameter)];
      if (from.dtype != DType::F32)
        return error.fail("parameter '" + part.name +
                          "' is not f32; checkpoints hold f32 training state");
      const float *first = from.as<float>() + (part.sharded ? 0 : begin);
      cpu::Tensor slice = cpu::Tensor::owned(DType::F32, {end - begin});
      std::copy(first, first + (end - begin), slice.as<float>());
      tensors.push_back({part.name, std::move(slice)});
    }
  }
  if (!writeSafetensors(directory + "/" + shardName(step, rank, ranks), tensors, error))
    return false;
  // Every shard is in place before the index names them.
  double written = 1;
  if (!communicator.allReduceSum(&written, 1, error))
    return false;
  if (rank != 0)
    return true;
  Json index;
  index["format"] = "lmc-checkpoint-2";
  index["model"] = plan.name;
  for (const WeightState &state : states)
    index["parameters"].push_back(
        {{"name", state.weight->name}, {"shape", state.weight->type.shape}});
  index["step"] = step;
  index["updates"] = updates;
  index["skipped"] = skipped;
  index["loss_scale"] = scaler.scale();
  index["clean_steps"] = scaler.cleanSteps();
  for (int r = 0; r < ranks; ++r)
    index["shards"].push_back(shardName(step, r, ranks));
  if (!writeFileAtomically(directory + "/index.json", index.dump(2) + "\n", error))
    return false;
  // Shards of earlier checkpoints are no longer named by the index.
  std::set<std::string> current;
  for (const Json &shard : index["shards"])
    current.insert(shard.get<std::string>());
  for (const auto &entry : std::filesystem::directory_iterator(directory, code)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find("-rank-") != std::string::npos &&
        !current.count(name))
      std::filesystem::remove(entry.path(), code);
  }
  return true;
}

bool Trainer::loadCheckpoint(const std::string &directory, rt::Status &error) {
  std::string text;
  std::string indexPath = directory + "/index.json";
  if (!readFile(indexPath, text, error))
    return false;
  Json index = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || index.value("format", "") != "lmc-checkpoint-2" ||
      !index.contains("shards") || !index["shards"].is_array() || index["shards"].empty() ||
      !index.contains("parameters"))
    return error.fail(indexPath + ": not an lmc checkpoint index (of this lmc's format)");
  const Plan &plan = model.plan();
  std::string modelName = index.value("model", "");
  if (modelName != plan.name)
    return error.fail("the checkpoint in '" + directory + "' holds model '" + modelName +
                      "', not '" + plan.name + "'");
  std::vector<cpu::Tensor> &stored = model.parameterTensors();
  int rank = communicator.rank(), ranks = communicator.size();
  std::vector<WeightState> states = weightStates(plan, training.zeroStage >= 1 && ranks > 1);
  const Json &declared = index["parameters"];
  bool same = declared.size() == states.size();
  for (size_t w = 0; same && w < declared.size(); ++w)
    same = declared[w].value("name", "") == states[w].weight->name &&
           declared[w]["shape"].get<std::vector<int64_t>>() == states[w].weight->type.shape;
  if (!same)
    return error.fail("the checkpoint in '" + directory + "' has other parameters than '" +
                      plan.name + "' (names or shapes differ)");

  // Each weight and moment whole, from every shard's slice.
  std::map<std::string, std::vector<float>> whole;
  for (const WeightState &state : states)
    for (const StatePart &part : state.parts)
      whole[part.name].resize(size_t(state.elements));
  int written = int(index["shards"].size());
  for (int r = 0; r < written; ++r) {
    std::string name = index["shards"][size_t(r)].get<std::string>();
    std::string file = directory + "/" + name;
    if (!std::filesystem::exists(file))
      return error.fail(LMC_STATUS_NOT_FOUND,
                        "the checkpoint in '" + directory + "' lacks its shard '" + name + "'");
    std::map<std::string, cpu::Tensor> tensors;
    if (!readSafetensors(file, tensors, error))
      return false;
    for (const WeightState &state : states) {
      auto [begin, end] = sliceOf(state.elements, written, r);
      for (const StatePart &part : state.parts) {
        auto found = tensors.find(part.name);
        if (found == tensors.end() || found->second.dtype != DType::F32 ||
            found->second.numElements() != end - begin)
          return error.fail(file + ": tensor '" + part.name + "' is missing or mis-sized");
        std::copy(found->second.as<float>(), found->second.as<float>() + (end - begin),
                  whole[part.name].begin() + begin);
      }
    }
  }

  // Keep what this rank stores.
  for (const WeightState &state : states) {
    auto [begin, end] = sliceOf(state.elements, ranks, rank);
    for (const StatePart &part : state.parts) {
      const std::vector<float> &values = whole[part.name];
      cpu::Tensor &into = stored[size_t(part.parameter)];
      if (into.dtype != DType::F32)
        return error.fail("parameter '" + part.name +
                          "' is not f32; checkpoints hold f32 training state");
      std::fill(into.as<float>(), into.as<float>() + into.numElements(), 0.0f);
      if (part.sharded)
        std::copy(values.begin() + begin, values.begin() + end, into.as<float>());
      else
        std::copy(values.begin(), values.end(), into.as<float>());
    }
  }
  model.parametersChanged();
  updates = index.value("updates", int64_t(0));
  skipped = index.value("skipped", int64_t(0));
  scaler.restore(index.value("loss_scale", scaler.scale()), index.value("clean_steps", int64_t(0)));
  return true;
}

} // namespace lmc::rt
