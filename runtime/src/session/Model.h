// Model.h - a loaded artifact with its weights, ready to run examples.
//
// The C API (api/lmc_api.cpp) and the lmc tool's run/inspect/init-weights
// commands sit on this class. After the weights are set, run() is const and
// may be called from several threads at once.

#ifndef LMC_RUNTIME_SESSION_MODEL_H
#define LMC_RUNTIME_SESSION_MODEL_H

#include "Status.h"
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
  static std::unique_ptr<Model> fromFile(const std::string &path, Status &status);
  static std::unique_ptr<Model> fromBytes(std::string bytes, Status &status);

  const Plan &plan() const { return loaded; }
  bool hasWeights() const { return !parameters.empty(); }
  /// See Backend::setMemoryLimit (16 GiB by default on the CPU); a limit set
  /// here also bounds what fitsInMemory allows.
  void setMemoryLimit(int64_t bytes) {
    memoryLimit = bytes;
    backend->setMemoryLimit(bytes);
  }
  /// The host threads runs compute with (Backend::setThreads; 0: the
  /// default).
  void setThreads(int count) {
    threads = count;
    backend->setThreads(count);
  }
  /// Runs on `other` from now on (the CPU backend until this is called).
  void setBackend(std::unique_ptr<Backend> other);
  /// The ranks this process trains with (one rank until set): a training
  /// step's collectives run over them, and a parameter stored in shards
  /// (ZeRO stage 3) keeps this rank's. Set it before the weights; it must
  /// outlive the model's runs.
  void setCommunicator(Communicator &ranks);
  const Backend &currentBackend() const { return *backend; }

  // Calls that can fail return false with `status` set (Status.h).

  /// Takes weights by parameter name: every parameter must be present with
  /// its shape; float tensors are converted to the plan's float type. A
  /// missing, extra or mis-shaped tensor is an error naming it. Optimizer
  /// moments are not weights: they start at zero. A parameter stored in
  /// shards keeps this rank's shard of the tensor given.
  bool setWeights(std::map<std::string, cpu::Tensor> weights, Status &status);
  /// The weights whole, by name (no optimizer moments); sharded ones are
  /// gathered from every rank, so every rank must call it.
  bool wholeWeights(std::vector<std::pair<std::string, cpu::Tensor>> &weights,
                    Status &status) const;
  /// NOT_FOUND when there is no such file, OUT_OF_MEMORY as fitsInMemory.
  bool loadWeights(const std::string &safetensorsPath, Status &status);
  /// Values generated from the recorded initializers (see Initializers.h);
  /// refused, with the sizes, when they cannot fit in this host's memory.
  bool generateWeights(uint64_t seed, std::vector<std::pair<std::string, cpu::Tensor>> &weights,
                       Status &status) const;
  /// The same values written straight to a safetensors file a piece at a
  /// time: memory stays bounded however large the model.
  bool writeGeneratedWeights(uint64_t seed, const std::string &path, Status &status) const;
  /// False, OUT_OF_MEMORY with the sizes, when the parameters, the activation
  /// arena and a batch's inputs exceed the memory limit or this host's
  /// physical memory (`doing` says what needed them). Loading, generating
  /// weights and running check it before they allocate.
  bool fitsInMemory(const std::string &doing, Status &status) const;

  /// Packs `examples`, runs every batch, and returns outputs per example in
  /// input order.
  bool run(const std::vector<Example> &examples, const PackingOptions &options,
           std::vector<ExampleOutputs> &results, RunStatistics &statistics,
           Status &status) const;

  /// Runs one packed batch whose inputs are built (buildBatchInputs) and
  /// returns the plan's outputs whole: what a training step needs, whose
  /// loss belongs to the batch, not to single examples. A training step's
  /// new parameter and moment values (its "update:" outputs) are written
  /// over the parameters, and those outputs come back empty.
  bool runBatch(const PackedBatch &batch, std::vector<cpu::Tensor> &outputs, Status &status);

  /// The parameter tensors in plan order as this rank stores them (empty
  /// until weights are set), for checkpoints: as of the last
  /// syncParameters() after training steps (a GPU keeps its updates until
  /// asked); call parametersChanged() after writing them. They share
  /// storage with the tensors setWeights() was given (no copy is made).
  std::vector<cpu::Tensor> &parameterTensors() { return parameters; }
  bool syncParameters(Status &status) const { return backend->pullParameters(parameters, status); }
  void parametersChanged() { backend->parametersChanged(); }
  Communicator &ranks() const { return backend->communicator(); }

private:
  explicit Model(std::string bytes) : bytes(std::move(bytes)) {}
  bool slice(const PackedBatch &batch, const std::vector<cpu::Tensor> &outputs,
             std::vector<ExampleOutputs> &results, rt::Status &error) const;

  std::string bytes;
  Plan loaded;
  std::unique_ptr<Backend> backend;
  /// setMemoryLimit's bytes; 0 until one is set (then the host's memory).
  int64_t memoryLimit = 0;
  int threads = 0;
  Communicator *communicator = nullptr;
  std::vector<cpu::Tensor> parameters;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_SESSION_MODEL_H
