// MpiCommunicator.cpp - Communicator over MPI_COMM_WORLD.

#include "collectives/MpiCommunicator.h"

#include <mpi.h>

#include <cstdlib>
#include <numeric>

namespace lmc::rt {
namespace {

std::string describe(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, size_t(length));
}

class MpiWorld final : public Communicator {
public:
  MpiWorld() {
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  }
  int rank() const override { return me; }
  int size() const override { return ranks; }

  bool allReduceSum(double *data, size_t count, std::string &error) override {
    return check(MPI_Allreduce(MPI_IN_PLACE, data, int(count), MPI_DOUBLE, MPI_SUM,
                               MPI_COMM_WORLD),
                 "MPI_Allreduce", error);
  }
  bool allReduceSum(float *data, size_t count, std::string &error) override {
    return check(MPI_Allreduce(MPI_IN_PLACE, data, int(count), MPI_FLOAT, MPI_SUM,
                               MPI_COMM_WORLD),
                 "MPI_Allreduce", error);
  }
  bool reduceScatterSum(const float *data, float *shard, const std::vector<int> &counts,
                        std::string &error) override {
    return check(MPI_Reduce_scatter(data, shard, counts.data(), MPI_FLOAT, MPI_SUM,
                                    MPI_COMM_WORLD),
                 "MPI_Reduce_scatter", error);
  }
  bool allGather(const float *shard, float *data, const std::vector<int> &counts,
                 std::string &error) override {
    std::vector<int> offsets(counts.size(), 0);
    std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
    return check(MPI_Allgatherv(shard, counts[size_t(me)], MPI_FLOAT, data, counts.data(),
                                offsets.data(), MPI_FLOAT, MPI_COMM_WORLD),
                 "MPI_Allgatherv", error);
  }
  bool allGatherBytes(const std::vector<uint8_t> &mine, std::vector<std::vector<uint8_t>> &all,
                      std::string &error) override {
    int length = int(mine.size());
    std::vector<int> lengths(static_cast<size_t>(ranks), 0);
    std::vector<int> offsets(static_cast<size_t>(ranks), 0);
    if (!check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
               "MPI_Allgather", error))
      return false;
    std::partial_sum(lengths.begin(), lengths.end() - 1, offsets.begin() + 1);
    std::vector<uint8_t> joined(size_t(offsets.back() + lengths.back()));
    if (!check(MPI_Allgatherv(mine.data(), length, MPI_BYTE, joined.data(), lengths.data(),
                              offsets.data(), MPI_BYTE, MPI_COMM_WORLD),
               "MPI_Allgatherv", error))
      return false;
    all.clear();
    for (int r = 0; r < ranks; ++r)
      all.emplace_back(joined.begin() + offsets[size_t(r)],
                       joined.begin() + offsets[size_t(r)] + lengths[size_t(r)]);
    return true;
  }

  void abort() override { MPI_Abort(MPI_COMM_WORLD, 1); }

private:
  static bool check(int code, const char *call, std::string &error) {
    if (code == MPI_SUCCESS)
      return true;
    error = std::string(call) + " failed: " + describe(code);
    return false;
  }
  int me = 0, ranks = 1;
};

} // namespace

bool launchedByMpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr; }

std::unique_ptr<Communicator> mpiWorld(std::string &error) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    if (MPI_Init(nullptr, nullptr) != MPI_SUCCESS)
      return (error = "MPI_Init failed"), nullptr;
    // Errors come back as codes, reported with the call that failed.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    std::atexit([] { MPI_Finalize(); });
  }
  return std::make_unique<MpiWorld>();
}

} // namespace lmc::rt
