// Communicator.h - the collectives a sharded training step needs, over ranks.
//
// The backends run a step's collective kernels (lmc.all_reduce, ...) and
// the trainer its bookkeeping through this interface; MpiCommunicator (library
// lmc_runtime_mpi, built when Open MPI is installed) implements it over
// MPI between CPU processes, and singleRank() is the trivial one for a
// process training alone. All calls are collective: every rank makes the
// same calls in the same order.

#ifndef LMC_RUNTIME_TRAIN_COMMUNICATOR_H
#define LMC_RUNTIME_TRAIN_COMMUNICATOR_H

#include "Status.h"

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace lmc::rt {

class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  /// Sums `count` values over the ranks, in place, on every rank.
  virtual bool allReduceSum(double *data, size_t count, rt::Status &error) = 0;
  virtual bool allReduceSum(float *data, size_t count, rt::Status &error) = 0;
  /// Sums `data` (the concatenation of every rank's shard, `counts[r]`
  /// values each) over the ranks; `shard` receives this rank's part.
  virtual bool reduceScatterSum(const float *data, float *shard, const std::vector<int> &counts,
                                rt::Status &error) = 0;
  /// Concatenates every rank's `shard` (`counts[r]` values) into `data`.
  virtual bool allGather(const float *shard, float *data, const std::vector<int> &counts,
                         rt::Status &error) = 0;
  /// Every rank's bytes, in rank order.
  virtual bool allGatherBytes(const std::vector<uint8_t> &mine,
                              std::vector<std::vector<uint8_t>> &all, rt::Status &error) = 0;

  /// A collective in flight: get() waits for it and gives its status.
  /// Until then the caller leaves its buffers alone.
  using Pending = std::future<Status>;
  /// allReduceSum and reduceScatterSum (of `padded`, which the collective
  /// keeps), started now so the caller can compute meanwhile. This base
  /// runs them at once; MpiCommunicator runs them on its own thread.
  virtual Pending startAllReduceSum(float *data, size_t count);
  virtual Pending startReduceScatterSum(std::vector<float> padded, float *shard,
                                        std::vector<int> counts);

  /// Ends every rank's process after an error on this one (the others may
  /// be waiting in a collective); a single rank just returns.
  virtual void abort() = 0;
};

/// The communicator of a process training alone: rank 0 of 1.
std::unique_ptr<Communicator> singleRank();
/// One shared for the whole process (it holds no state).
Communicator &singleRankCommunicator();

} // namespace lmc::rt

#endif // LMC_RUNTIME_TRAIN_COMMUNICATOR_H
