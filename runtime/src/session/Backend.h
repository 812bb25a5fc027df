// Backend.h - what runs a plan's steps: the CPU backend, or the CUDA one.
//
// A backend is made for one loaded plan and outlives none of its runs.
// run() takes host tensors and returns host tensors, whatever memory the
// backend computes in.

#ifndef LMC_RUNTIME_SESSION_BACKEND_H
#define LMC_RUNTIME_SESSION_BACKEND_H

#include "Status.h"
#include "collectives/Communicator.h"
#include "cpu/Tensor.h"

#include <string>
#include <vector>

namespace lmc::rt {

class Backend {
public:
  virtual ~Backend() = default;

  /// Runs the plan. `inputs` follow plan.inputs, `parameters` follow
  /// plan.parameters; `outputs` receive owned tensors in plan.outputs'
  /// order, except a training step's update outputs: those are written
  /// over their parameter (host tensor and any copy the backend keeps) and
  /// come back empty. Returns false with `error` set on any failure.
  virtual bool run(const std::vector<cpu::Tensor> &inputs,
                   const std::vector<cpu::Tensor> &parameters, std::vector<cpu::Tensor> &outputs,
                   rt::Status &error) const = 0;

  /// The most bytes one tensor (or the arena) may take.
  virtual void setMemoryLimit(int64_t bytes) = 0;

  /// The host threads run() computes with; 0 (the default) takes
  /// OMP_NUM_THREADS, else every processor this process may run on. A
  /// backend that computes elsewhere ignores it.
  virtual void setThreads(int threads) { (void)threads; }

  /// Where it runs, for messages: "the CPU", "the GPU (NVIDIA H200, sm_90)".
  virtual std::string label() const = 0;

  /// True when run() computes on the host's cores; otherwise the host is
  /// free while it runs (Model builds the next batch meanwhile).
  virtual bool runsOnHost() const = 0;

  /// The host parameter tensors changed in place (a checkpoint was loaded
  /// into them): a backend that keeps copies must take them again.
  virtual void parametersChanged() {}

  /// Brings the host `parameters` up to date where the backend holds newer
  /// values: a GPU keeps a training step's updates on the device and copies
  /// them back only when asked (checkpoints, `lmc train -o`).
  virtual bool pullParameters(const std::vector<cpu::Tensor> &parameters, rt::Status &error) const {
    (void)parameters, (void)error;
    return true;
  }

  /// The ranks a training step's collectives run over (one rank until
  /// set); it must outlive the backend's runs.
  void setCommunicator(Communicator &ranks) { shared = &ranks; }
  Communicator &communicator() const { return shared ? *shared : singleRankCommunicator(); }

private:
  Communicator *shared = nullptr;
};

} // namespace lmc::rt

#endif // LMC_RUNTIME_SESSION_BACKEND_H
