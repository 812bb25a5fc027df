// Checkpoint.cpp - sharded training checkpoints (Trainer::saveCheckpoint,
// Trainer::loadCheckpoint).
//
// A checkpoint is a directory: one safetensors shard per rank holding, for
// each parameter overlapping the rank's range of the flattened parameters,
// that slice of the values and of both Adam moments ("<name>",
// "<name>.adam_m", "<name>.adam_v", 1-D), and index.json:
//   {"format": "lmc-checkpoint-1", "model": ..., "parameters": [{"name",
//    "shape"}], "step": ..., "skipped": ..., "loss_scale": ...,
//    "clean_steps": ..., "shards": [{"file", "begin", "end"}]}
// Shard names carry the step, and the index is written last (atomically),
// so a crash mid-save leaves the previous checkpoint readable. Loading
// assembles the whole state from the shards and keeps this rank's range:
// any rank count reads any checkpoint.

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

cpu::Tensor vectorTensor(const float *values, int64_t count) {
  cpu::Tensor tensor = cpu::Tensor::owned(DType::F32, {count});
  std::copy(values, values + count, tensor.as<float>());
  return tensor;
}

} // namespace

bool Trainer::saveCheckpoint(const std::string &directory, std::string &error) {
  std::error_code code;
  std::filesystem::create_directories(directory, code);
  if (code)
    return (error = "cannot create '" + directory + "': " + code.message()), false;
  const Plan &plan = model.plan();
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  int rank = communicator.rank(), ranks = communicator.size();
  // Stage 0 keeps everything everywhere: rank 0 alone writes it.
  bool writes = training.zeroStage > 0 || rank == 0;
  int64_t step = updates + skipped;
  if (writes) {
    std::vector<std::pair<std::string, cpu::Tensor>> tensors;
    for (size_t p = 0; p < parameters.size(); ++p) {
      auto [first, last] = optimizer.ownedRange(p);
      if (first >= last)
        continue;
      const std::string &name = plan.parameters[p].name;
      tensors.push_back({name, vectorTensor(parameters[p].as<float>() + first, last - first)});
      tensors.push_back({name + ".adam_m", vectorTensor(optimizer.firstMoment(p).data(),
                                                        last - first)});
      tensors.push_back({name + ".adam_v", vectorTensor(optimizer.secondMoment(p).data(),
                                                        last - first)});
    }
    std::string path = directory + "/" + shardName(step, training.zeroStage ? rank : 0,
                                                   training.zeroStage ? ranks : 1);
    if (!writeSafetensors(path, tensors, error))
      return false;
  }
  // Every shard is in place before the index names them.
  double written = 1;
  if (!communicator.allReduceSum(&written, 1, error))
    return false;
  if (rank != 0)
    return true;
  Json index;
  index["format"] = "lmc-checkpoint-1";
  index["model"] = plan.name;
  for (const Parameter &parameter : plan.parameters)
    index["parameters"].push_back({{"name", parameter.name}, {"shape", parameter.type.shape}});
  index["step"] = step;
  index["updates"] = updates;
  index["skipped"] = skipped;
  index["loss_scale"] = scaler.scale();
  index["clean_steps"] = scaler.cleanSteps();
  int shards = training.zeroStage ? ranks : 1;
  int64_t total = offsets.empty() ? 0 : offsets.back() + parameters.back().numElements();
  int64_t slice = (total + shards - 1) / shards;
  for (int r = 0; r < shards; ++r)
    index["shards"].push_back({{"file", shardName(step, r, shards)},
                               {"begin", std::min(total, slice * r)},
                               {"end", std::min(total, slice * (r + 1))}});
  if (!writeFileAtomically(directory + "/index.json", index.dump(2) + "\n", error))
    return false;
  // Shards of earlier checkpoints are no longer named by the index.
  std::set<std::string> current;
  for (const Json &shard : index["shards"])
    current.insert(shard["file"].get<std::string>());
  for (const auto &entry : std::filesystem::directory_iterator(directory, code)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find("-rank-") != std::string::npos &&
        !current.count(name))
      std::filesystem::remove(entry.path(), code);
  }
  return true;
}

bool Trainer::loadCheckpoint(const std::string &directory, std::string &error) {
  std::string text;
  std::string indexPath = directory + "/index.json";
  if (!readFile(indexPath, text, error))
    return false;
  Json index = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || index.value("format", "") != "lmc-checkpoint-1" ||
      !index.contains("shards") || !index.contains("parameters"))
    return (error = indexPath + ": not an lmc checkpoint index"), false;
  const Plan &plan = model.plan();
  std::string model_name = index.value("model", "");
  if (model_name != plan.name)
    return (error = "the checkpoint in '" + directory + "' holds model '" + model_name +
                    "', not '" + plan.name + "'"),
           false;
  const Json &declared = index["parameters"];
  bool same = declared.size() == plan.parameters.size();
  for (size_t p = 0; same && p < declared.size(); ++p)
    same = declared[p].value("name", "") == plan.parameters[p].name &&
           declared[p]["shape"].get<std::vector<int64_t>>() == plan.parameters[p].type.shape;
  if (!same)
    return (error = "the checkpoint in '" + directory + "' has other parameters than '" +
                    plan.name + "' (names or shapes differ)"),
           false;

  // The whole state, flattened, assembled from every shard.
  std::vector<cpu::Tensor> &parameters = model.parameterTensors();
  int64_t total = offsets.empty() ? 0 : offsets.back() + parameters.back().numElements();
  const size_t count = static_cast<size_t>(total);
  std::vector<float> values(count, 0.0f), first(count, 0.0f), second(count, 0.0f);
  std::vector<bool> covered(count, false);
  for (const Json &shard : index["shards"]) {
    std::string file = directory + "/" + shard.value("file", "");
    if (!std::filesystem::exists(file))
      return (error = "the checkpoint in '" + directory + "' lacks its shard '" +
                      shard.value("file", "") + "'"),
             false;
    std::map<std::string, cpu::Tensor> tensors;
    if (!readSafetensors(file, tensors, error))
      return false;
    int64_t begin = shard.value("begin", int64_t(0)), end = shard.value("end", int64_t(0));
    for (size_t p = 0; p < parameters.size(); ++p) {
      int64_t from = std::clamp(begin, offsets[p], offsets[p] + parameters[p].numElements());
      int64_t to = std::clamp(end, offsets[p], offsets[p] + parameters[p].numElements());
      if (from >= to)
        continue;
      const std::string &name = plan.parameters[p].name;
      for (auto [suffix, into] : {std::pair<const char *, std::vector<float> *>{"", &values},
                                  {".adam_m", &first},
                                  {".adam_v", &second}}) {
        auto found = tensors.find(name + suffix);
        if (found == tensors.end() || found->second.dtype != DType::F32 ||
            found->second.numElements() != to - from)
          return (error = file + ": tensor '" + name + suffix + "' is missing or mis-sized"),
                 false;
        std::copy(found->second.as<float>(), found->second.as<float>() + (to - from),
                  into->begin() + from);
      }
      std::fill(covered.begin() + from, covered.begin() + to, true);
    }
  }
  if (std::find(covered.begin(), covered.end(), false) != covered.end())
    return (error = "the shards of the checkpoint in '" + directory +
                    "' do not cover every parameter"),
           false;
  for (size_t p = 0; p < parameters.size(); ++p) {
    std::copy(values.begin() + offsets[p], values.begin() + offsets[p] + parameters[p].numElements(),
              parameters[p].as<float>());
    auto [from, to] = optimizer.ownedRange(p);
    std::copy(first.begin() + offsets[p] + from, first.begin() + offsets[p] + to,
              optimizer.firstMoment(p).begin());
    std::copy(second.begin() + offsets[p] + from, second.begin() + offsets[p] + to,
              optimizer.secondMoment(p).begin());
  }
  model.parametersChanged();
  updates = index.value("updates", int64_t(0));
  skipped = index.value("skipped", int64_t(0));
  scaler.restore(index.value("loss_scale", scaler.scale()), index.value("clean_steps", int64_t(0)));
  parametersWhole = true;
  return true;
}

} // namespace lmc::rt
