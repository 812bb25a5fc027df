// DeviceCollectives.h - a training step's collective kernels on the GPU,
// over NCCL between one GPU per rank.
//
// A package compiled for N ranks holds kernels of kind `collective`
// (lmc.all_reduce, lmc.reduce_scatter, ...; see the lmc dialect). On the
// CUDA backend each becomes one NCCL call, plus the device copies ZeRO's
// partition needs: a flattened tensor of n elements is split in shards of
// ceil(n / N), the last one zero-padded, which NCCL's equal-count
// reduce-scatter and all-gather see through a padded copy in staging
// memory. The backend queues them on a stream of their own, beside its
// kernels (CudaBackend.h says how the two wait for each other), so each
// collective has staging memory of its own rather than kernel scratch.
//
// The ranks meet over the trainer's Communicator (MPI under mpirun): rank
// 0's NCCL unique id travels to the others over it, each rank takes the
// GPU of its place among the ranks on its host, and lmc.all_gather_rows'
// row counts (known on each rank's host only) are exchanged over it while
// a run plans its steps.

#ifndef LMC_RUNTIME_CUDA_DEVICECOLLECTIVES_H
#define LMC_RUNTIME_CUDA_DEVICECOLLECTIVES_H

#include "Status.h"
#include "artifact/Plan.h"
#include "collectives/Communicator.h"
#include "cuda/Driver.h"
#include "cuda/HostShapes.h"
#include "cuda/Nccl.h"

#include <memory>
#include <vector>

namespace lmc::cuda {

/// Which of the `count` GPUs this rank takes: its place among the ranks
/// that share its host (every rank calls it). An error when the host has
/// more ranks than GPUs (NCCL refuses two ranks on one GPU).
bool chooseRankDevice(rt::Communicator &ranks, int count, int &device, rt::Status &error);

class DeviceCollectives {
public:
  /// Joins every rank of `ranks` in one NCCL communicator on the current
  /// context's GPU; every rank calls it, in the same order.
  static std::unique_ptr<DeviceCollectives> create(const Driver &driver, const Nccl &nccl,
                                                   rt::Communicator &ranks, rt::Status &error);
  ~DeviceCollectives();

  int size() const { return ranks.size(); }

  /// What a run works out on the host for one collective step.
  struct Frame {
    size_t stagingBytes = 0;
    std::vector<int64_t> rowsPerRank; // lmc.all_gather_rows only
  };

  /// Fills the result's shape in `locals` (the kernel's arguments on
  /// entry) and the step's `frame`; lmc.all_gather_rows exchanges its row
  /// count with every rank here.
  bool plan(const rt::Kernel &kernel, std::vector<HostValue> &locals, Frame &frame,
            rt::Status &error) const;
  /// Queues the collective on `stream`: `pointers` hold the kernel's
  /// locals (argument, result), `staging` the frame's staging bytes.
  bool run(const rt::Kernel &kernel, const std::vector<HostValue> &locals, const Frame &frame,
           const std::vector<CUdeviceptr> &pointers, CUdeviceptr staging, CUstream stream,
           rt::Status &error) const;

private:
  DeviceCollectives(const Driver &driver, const Nccl &nccl, rt::Communicator &ranks)
      : driver(driver), nccl(nccl), ranks(ranks), rankValue(ranks.rank()) {}

  const Driver &driver;
  const Nccl &nccl;
  rt::Communicator &ranks;
  ncclComm_t comm = nullptr;
  /// lmc.rank's value, copied to the device from here.
  int64_t rankValue;
};

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_DEVICECOLLECTIVES_H
