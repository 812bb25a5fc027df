// CudaBackend.h - runs a plan on an NVIDIA GPU through the driver API.
//
// Kernels come from the package (ModuleLoader.h), GEMMs go to cuBLASLt,
// and both run on one stream in plan order. A run first works out on the
// host every value's shape (HostShapes.h), the attention tile lists and the
// scratch it needs; then copies the inputs and tiles in one transfer,
// launches each step's entry points into one device arena laid out by the
// memory plan without waiting for the device, and copies the outputs back.
// Parameters are copied to the device on the first run (and again when the
// host tensors change); a training step's updates stay in those copies
// until pullParameters() brings them to the host.
//
// A package that trains over several ranks runs one rank per process, each
// on a GPU of its own; its collective kernels are NCCL calls
// (DeviceCollectives.h) on a second stream, so a gradient's all-reduce or
// reduce-scatter proceeds while the rest of the backward computes. Events
// order the two: a collective starts after the kernels queued before it,
// and a kernel waits for an unfinished collective when it reads what the
// collective writes or writes bytes the collective reads or writes
// (CudaBackendTraining.cpp).
//
// Runs are serialized: one compute stream, one arena, one scratch buffer.

#ifndef LMC_RUNTIME_CUDA_CUDABACKEND_H
#define LMC_RUNTIME_CUDA_CUDABACKEND_H

#include "Status.h"
#include "artifact/Plan.h"
#include "cuda/DeviceCollectives.h"
#include "cuda/Driver.h"
#include "cuda/Gemm.h"
#include "cuda/HostShapes.h"
#include "cuda/ModuleLoader.h"
#include "session/Backend.h"

#include <memory>
#include <mutex>

namespace lmc::cuda {

class CudaBackend final : public rt::Backend {
public:
  /// A backend on GPU 0 of `driver` (the process's CUDA driver when null);
  /// null with `error` set when there is no driver, no GPU, or a kernel
  /// that cannot be loaded for it. A package that trains over several
  /// ranks needs this process's `ranks` (every rank creates its backend at
  /// the same point): the backend takes the GPU of the rank's place on its
  /// host and joins the others over `nccl` (the process's NCCL when null).
  static std::unique_ptr<CudaBackend> create(const rt::Plan &plan, rt::Status &error,
                                             const Driver *driver = nullptr,
                                             rt::Communicator *ranks = nullptr,
                                             const Nccl *nccl = nullptr);
  ~CudaBackend() override;

  bool run(const std::vector<cpu::Tensor> &inputs, const std::vector<cpu::Tensor> &parameters,
           std::vector<cpu::Tensor> &outputs, rt::Status &error) const override;
  void setMemoryLimit(int64_t bytes) override { memoryLimit = bytes; }
  std::string label() const override;
  bool runsOnHost() const override { return false; }
  /// The next run uploads every parameter again.
  void parametersChanged() override {
    std::lock_guard<std::mutex> lock(runMutex);
    parameterSources.assign(parameterSources.size(), nullptr);
    deviceNewer.assign(deviceNewer.size(), false);
  }
  bool pullParameters(const std::vector<cpu::Tensor> &parameters, rt::Status &error) const override;

  /// Where each kernel's module came from (cubin, cache, nvrtc, ptx).
  const std::vector<ModuleSource> &moduleSources() const { return sources; }

  /// One query tile of the attention kernel (LmcTile in its source).
  struct Tile {
    int32_t queryRow, rows, keyRow, keys, queryPosition, unused[3];
  };

private:
  /// What the host works out for one step before anything is launched.
  struct StepFrame {
    std::vector<HostValue> locals; // kernel-local shapes (and host-known data)
    std::vector<Tile> tiles;       // attention only
    size_t rowScratchBytes = 0;    // attention and optimizer kernels (RowScratch)
    DeviceCollectives::Frame collective; // collective kernels only
    size_t stagingAt = 0;                // its staging bytes' offset
  };
  /// Bytes of device memory a step reads or writes: of the arena (space
  /// -1) or of parameter `space`'s device copy.
  struct Span {
    int space;
    int64_t begin, end;
  };
  /// A collective queued on the side stream that the kernels have not
  /// waited for yet, with the bytes it reads and writes.
  struct InFlight {
    size_t step;
    std::vector<Span> reads, writes;
  };

  struct Buffer {
    CUdeviceptr pointer = 0;
    size_t bytes = 0;
  };
  explicit CudaBackend(const rt::Plan &plan) : plan(plan) {}
  bool initialize(rt::Communicator *ranks, const Nccl *nccl, rt::Status &error);
  bool joinRanks(rt::Communicator *ranks, const Nccl *nccl, int count, rt::Status &error);
  bool reserve(Buffer &buffer, size_t bytes, const char *what, rt::Status &error) const;
  bool upload(CUdeviceptr to, const void *from, size_t bytes, rt::Status &error) const;
  bool planStep(const rt::Step &step, std::vector<HostValue> &shapes, StepFrame &frame,
                rt::Status &error) const;
  bool launchStep(const rt::Step &step, const StepFrame &frame, std::vector<CUdeviceptr> &addresses,
                  CUdeviceptr tiles, rt::Status &error) const;
  /// Queues collective step `s` on the side stream after the kernels
  /// queued so far, and records it in `inFlight`.
  bool startCollective(size_t s, const StepFrame &frame, std::vector<CUdeviceptr> &addresses,
                       std::vector<InFlight> &inFlight, rt::Status &error) const;
  /// Makes the compute stream wait for every collective in `inFlight` that
  /// `step` depends on (every one when `step` is null) and forgets them.
  bool awaitCollectives(const rt::Step *step, std::vector<InFlight> &inFlight,
                        rt::Status &error) const;
  /// The bytes of `values` that live in the arena or a parameter's copy.
  std::vector<Span> spansOf(const std::vector<int> &values) const;
  size_t scratchBytes(const rt::Step &step, const StepFrame &frame) const;
  static size_t scratchBytesOf(const rt::Kernel &kernel, const StepFrame &frame, int value);
  bool launch(const rt::Kernel &kernel, size_t entry, const std::vector<HostValue> &locals,
              const std::vector<CUdeviceptr> &pointers, CUdeviceptr tiles, int tileCount,
              CUdeviceptr rowScratch, rt::Status &error) const;

  const rt::Plan &plan;
  const Driver *driver = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  cublasLtHandle_t blas = nullptr;
  int arch = 0, driverVersion = 0;
  std::string deviceName;
  int64_t memoryLimit = int64_t(1) << 36;
  std::vector<CUmodule> modules;
  std::vector<std::vector<CUfunction>> functions; // per kernel, per launch
  std::vector<ModuleSource> sources;
  std::vector<Buffer> constants, tables;
  std::vector<int64_t> tableSizes;
  /// Per value: the bytes the memory plan gave it.
  std::vector<int64_t> plannedBytes;

  mutable std::mutex runMutex;
  mutable Buffer arena, scratch, inputBuffer, workspace;
  mutable std::vector<Buffer> parameterCopies;
  mutable std::vector<const void *> parameterSources;
  /// Per parameter: a training step updated the device copy since the host
  /// tensor was last written (pullParameters copies it back).
  mutable std::vector<bool> deviceNewer;
  mutable std::unique_ptr<GemmRunner> gemm;
  /// Set when the package has collective kernels: NCCL, the side stream
  /// and, per step, the events "its inputs are ready" and "it is done".
  std::unique_ptr<DeviceCollectives> collectives;
  CUstream sideStream = nullptr;
  std::vector<CUevent> inputsReady, collectiveDone;
  mutable Buffer collectiveStaging;
};

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_CUDABACKEND_H
