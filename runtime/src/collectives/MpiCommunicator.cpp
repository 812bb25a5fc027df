// MpiCommunicator.cpp - Communicator over MPI_COMM_WORLD, its calls made on
// a thread of its own.

#include "collectives/MpiCommunicator.h"

#include <mpi.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <numeric>
#include <thread>

namespace lmc::rt {
namespace {

std::string describe(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, size_t(length));
}

/// MPI_COMM_WORLD. Every MPI call after MPI_Init runs on one thread of its
/// own, in submission order (MPI_THREAD_SERIALIZED): a started collective
/// proceeds there while the caller computes, and calls made to wait run
/// in turn behind it.
class MpiWorld final : public Communicator {
public:
  MpiWorld() {
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    worker = std::thread([this] { serve(); });
  }
  ~MpiWorld() override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    ready.notify_all();
    worker.join();
  }
  int rank() const override { return me; }
  int size() const override { return ranks; }

  bool allReduceSum(double *data, size_t count, rt::Status &error) override {
    return wait(startTask([=] { return call(MPI_Allreduce(MPI_IN_PLACE, data, int(count),
                                                          MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                                            "MPI_Allreduce"); }),
                error);
  }
  bool allReduceSum(float *data, size_t count, rt::Status &error) override {
    return wait(startAllReduceSum(data, count), error);
  }
  bool reduceScatterSum(const float *data, float *shard, const std::vector<int> &counts,
                        rt::Status &error) override {
    return wait(startTask([=, &counts] {
                  return call(MPI_Reduce_scatter(data, shard, counts.data(), MPI_FLOAT, MPI_SUM,
                                                 MPI_COMM_WORLD),
                              "MPI_Reduce_scatter");
                }),
                error);
  }
  bool allGather(const float *shard, float *data, const std::vector<int> &counts,
                 rt::Status &error) override {
    return wait(startTask([=, &counts] {
                  std::vector<int> offsets(counts.size(), 0);
                  std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
                  return call(MPI_Allgatherv(shard, counts[size_t(me)], MPI_FLOAT, data,
                                             counts.data(), offsets.data(), MPI_FLOAT,
                                             MPI_COMM_WORLD),
                              "MPI_Allgatherv");
                }),
                error);
  }
  bool allGatherBytes(const std::vector<uint8_t> &mine, std::vector<std::vector<uint8_t>> &all,
                      rt::Status &error) override {
    return wait(startTask([&] { return gatherBytes(mine, all); }), error);
  }

  Pending startAllReduceSum(float *data, size_t count) override {
    return startTask([=] {
      return call(MPI_Allreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM,
                                MPI_COMM_WORLD),
                  "MPI_Allreduce");
    });
  }
  Pending startReduceScatterSum(std::vector<float> padded, float *shard,
                                std::vector<int> counts) override {
    return startTask([=, padded = std::move(padded), counts = std::move(counts)] {
      return call(MPI_Reduce_scatter(padded.data(), shard, counts.data(), MPI_FLOAT, MPI_SUM,
                                     MPI_COMM_WORLD),
                  "MPI_Reduce_scatter");
    });
  }

  void abort() override { MPI_Abort(MPI_COMM_WORLD, 1); }

private:
  /// A task returns the status of its MPI calls.
  using Task = std::packaged_task<Status()>;

  template <typename F>
  Pending startTask(F body) {
    Task task(std::move(body));
    Pending done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex);
      tasks.push_back(std::move(task));
    }
    ready.notify_one();
    return done;
  }
  static bool wait(Pending pending, rt::Status &error) {
    error = pending.get();
    return error.ok();
  }
  void serve() {
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> lock(mutex);
        ready.wait(lock, [&] { return stopping || !tasks.empty(); });
        if (tasks.empty())
          return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      task();
    }
  }

  /// UNAVAILABLE when an MPI call fails: another rank or the transport
  /// between them is gone.
  static Status call(int code, const char *name) {
    Status status;
    if (code != MPI_SUCCESS)
      status.fail(LMC_STATUS_UNAVAILABLE, std::string(name) + " failed: " + describe(code));
    return status;
  }
  Status gatherBytes(const std::vector<uint8_t> &mine,
                     std::vector<std::vector<uint8_t>> &all) const {
    int length = int(mine.size());
    std::vector<int> lengths(static_cast<size_t>(ranks), 0);
    std::vector<int> offsets(static_cast<size_t>(ranks), 0);
    Status error =
        call(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
             "MPI_Allgather");
    if (!error.ok())
      return error;
    std::partial_sum(lengths.begin(), lengths.end() - 1, offsets.begin() + 1);
    std::vector<uint8_t> joined(size_t(offsets.back() + lengths.back()));
    error = call(MPI_Allgatherv(mine.data(), length, MPI_BYTE, joined.data(), lengths.data(),
                                offsets.data(), MPI_BYTE, MPI_COMM_WORLD),
                 "MPI_Allgatherv");
    if (!error.ok())
      return error;
    all.clear();
    for (int r = 0; r < ranks; ++r)
      all.emplace_back(joined.begin() + offsets[size_t(r)],
                       joined.begin() + offsets[size_t(r)] + lengths[size_t(r)]);
    return error;
  }

  int me = 0, ranks = 1;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<Task> tasks;
  bool stopping = false;
  std::thread worker;
};

} // namespace

bool launchedByMpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

std::unique_ptr<Communicator> mpiWorld(rt::Status &error) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Collectives run on the communicator's own thread, one call at a time.
    int provided = MPI_THREAD_SINGLE;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      return error.fail(LMC_STATUS_UNAVAILABLE, "MPI_Init_thread failed"), nullptr;
    if (provided < MPI_THREAD_SERIALIZED)
      return error.fail(LMC_STATUS_UNAVAILABLE,
                        "this MPI cannot be called from a thread other than main "
                        "(MPI_THREAD_SERIALIZED)"),
             nullptr;
    // Errors come back as codes, reported with the call that failed.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    std::atexit([] { MPI_Finalize(); });
  }
  return std::make_unique<MpiWorld>();
}

} // namespace lmc::rt
