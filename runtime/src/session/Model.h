// Model.h - a loaded artifact with its weights, ready to run examples.
//
// The C API (api/lmc_api.cpp) and the lmc tool's run/inspect/init-weights
// commands sit on this class. After the weights are set, run() is const and
// may be called from several threads at once.

#ifndef LMC_RUNTIME_SESSION_MODEL_H
#define LMC_RUNTIME_SESSION_MODEL_H

#include "artifact/Plan.h"
#include "cpu/CpuBackend.h"
#include "packer/Packer.h"

#include <map>
#include <memory>

namespace lmc::rt {

/// One example's outputs, in the plan's output order, unpadded.
struct ExampleOutputs {
  std::vector<cpu::Tensor> outputs;
};

struct RunStatistics {
  size_t batches = 0, rows = 0;
  int64_t tokens = 0;
};

class Model {
public:
  static std::unique_ptr<Model> fromFile(const std::string &path, std::string &error);
  static std::unique_ptr<Model> fromBytes(std::string bytes, std::string &error);

  const Plan &plan() const { return loaded; }
  bool hasWeights() const { return !parameters.empty(); }
  /// See Backend::setMemoryLimit (16 GiB by default on the CPU).
  void setMemoryLimit(int64_t bytes) { backend->setMemoryLimit(bytes); }
  /// Runs on `other` from now on (the CPU backend until this is called).
  void setBackend(std::unique_ptr<Backend> other) { backend = std::move(other); }
  const Backend &currentBackend() const { return *backend; }

  /// Takes weights by parameter name: every parameter must be present with
  /// its shape; float tensors are converted to the plan's float type. A
  /// missing, extra or mis-shaped tensor is an error naming it.
  bool setWeights(std::map<std::string, cpu::Tensor> weights, std::string &error);
  bool loadWeights(const std::string &safetensorsPath, std::string &error);
  /// Values generated from the recorded initializers (see Initializers.h).
  bool generateWeights(uint64_t seed, std::vector<std::pair<std::string, cpu::Tensor>> &weights,
                       std::string &error) const;

  /// Packs `examples`, runs every batch, and returns outputs per example in
  /// input order.
  bool run(const std::vector<Example> &examples, const PackingOptions &options,
           std::vector<ExampleOutputs> &results, RunStatistics &statistics,
           std::string &error) const;

  /// Runs one packed batch whose inputs are built (buildBatchInputs) and
  /// returns the plan's outputs whole: what a training step needs, whose
  /// loss and gradients belong to the batch, not to single examples.
  bool runBatch(const PackedBatch &batch, std::vector<cpu::Tensor> &outputs,
                std::string &error) const;

  /// The parameter tensors in plan order, for a trainer to update in
  /// place between runs (empty until weights are set); it calls
  /// parametersChanged() after each update. They share storage with the
  /// tensors setWeights() was given (no copy is made).
  std::vector<cpu::Tensor> &parameterTensors() { return parameters; }
  void parametersChanged() { backend->parametersChanged(); }

private:
  explicit Model(std::string bytes) : bytes(std::move(bytes)) {}
  bool slice(const PackedBatch &batch, const std::vector<cpu::Tensor> &outputs,
             std::vector<ExampleOutputs> &results, std::string &error) const;

  std::string bytes;
  Plan loaded;
  std::unique_ptr<Backend> backend;
  std::vector<cpu::Tensor> parameters;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_SESSION_MODEL_H
