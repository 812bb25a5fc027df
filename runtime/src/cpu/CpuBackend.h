// CpuBackend.h - runs a Plan's steps on the host.
//
// The same kernels, in the same order, with the same precision rules as the
// CUDA backend: fused kernels are interpreted instruction by instruction over
// whole tensors (each op multithreaded, cpu/ThreadPool.h), GEMMs go to BLAS,
// attention is tiled online softmax (with the CPU's own tile sizes). Kernel results live at
// their planned arena offsets when they fit the slot the plan budgeted, in
// separate buffers otherwise (a batch beyond the budget still runs).
//
// A CpuBackend is immutable after construction: run() may be called from
// several threads at once (each call has its own arena). A training step's
// all-reduces and reduce-scatters of gradients run in the background
// (Communicator::start*) while the backward goes on; a step that reads the
// result waits for it.

#ifndef LMC_RUNTIME_CPU_CPUBACKEND_H
#define LMC_RUNTIME_CPU_CPUBACKEND_H

#include "Status.h"
#include "cpu/FeatureColumnKernels.h"
#include "cpu/ScratchPool.h"
#include "cpu/Tensor.h"
#include "session/Backend.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmc::cpu {

/// The BLAS the CPU backend's GEMMs run on and the kernel family it picked
/// for this processor ("OpenBLAS 0.3.21 ..., Haswell kernels"): the family
/// decides the last digits of every GEMM (OPENBLAS_CORETYPE overrides it).
std::string blasKernels();

class CpuBackend final : public rt::Backend {
public:
  explicit CpuBackend(const rt::Plan &plan);

  /// Runs the plan. `inputs` follow plan.inputs, `parameters` follow
  /// plan.parameters; `outputs` receive owned tensors in plan.outputs'
  /// order. Returns false with `error` set on any failure.
  bool run(const std::vector<Tensor> &inputs, const std::vector<Tensor> &parameters,
           std::vector<Tensor> &outputs, rt::Status &error) const override;

  /// The most bytes one tensor (or the arena) may take; larger requests
  /// fail the run with a message instead of exhausting the host.
  void setMemoryLimit(int64_t bytes) override { memoryLimit = bytes; }
  /// GEMMs and lmc's loops share one team of this size (cpu/ThreadPool.h).
  void setThreads(int count) override { threads = count; }
  std::string label() const override { return "the CPU"; }
  /// Drops the f32 copies of f16/bf16 parameters (widenedParameter).
  void parametersChanged() override;
  bool runsOnHost() const override { return true; }

private:
  bool runStep(const rt::Step &step, std::vector<Tensor> &values, uint8_t *arena,
               rt::Status &error) const;
  /// Starts a gradient collective (all-reduce, reduce-scatter over several
  /// ranks) in the background, writing its arena slot; false when `step`
  /// is not one, and runStep runs it.
  bool startCollective(const rt::Step &step, std::vector<Tensor> &values, uint8_t *arena,
                       std::map<int, rt::Communicator::Pending> &inFlight) const;

  /// An f16/bf16 parameter's values as f32, converted on its first use
  /// and kept until parametersChanged() (or a tensor at another address):
  /// a serving plan's GEMMs read them every run, and converting a weight
  /// once per run costs more than the f16 storage saves. Training plans,
  /// which update their parameters, convert in each kernel instead.
  const float *widenedParameter(size_t index, const Tensor &parameter) const;

  const rt::Plan &plan;
  /// No step writes a parameter: f32 copies of them stay valid.
  bool servesOnly = true;
  std::unordered_map<const rt::Instruction *, VocabularyIndex> vocabularies;
  /// Per value: the bytes the memory plan gave it (under the budget).
  std::vector<int64_t> plannedBytes;
  int64_t memoryLimit = int64_t(1) << 34;
  int threads = 0;
  /// Arenas of finished runs, reused by the next ones: a fresh allocation
  /// costs a page fault per page touched, every run.
  mutable std::mutex arenaMutex;
  mutable std::vector<std::unique_ptr<uint8_t[]>> idleArenas;
  struct Widened {
    const void *data = nullptr;
    std::unique_ptr<float[]> values;
  };
  mutable std::mutex widenedMutex;
  mutable std::vector<Widened> widened;
  /// Kernel temporaries and results that do not fit their arena slot.
  mutable ScratchPool scratch;
};

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_CPUBACKEND_H
