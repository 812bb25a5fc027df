// ThreadPool.h - the one team of threads the CPU backend computes on.
//
// lmc's parallel loops and OpenBLAS's GEMMs share libgomp's thread pool:
// the runtime links Debian's OpenMP build of OpenBLAS, so a GEMM called
// outside a parallel region spreads over the same threads lmc's loops use,
// and a GEMM called inside one (an attention tile) runs on its caller's
// thread alone. Nothing oversubscribes the cores.
//
// The loops enter libgomp through its documented C entry point rather than
// `#pragma omp parallel`: Clang compiles that pragma only against LLVM's
// libomp, whose team would be a second pool beside OpenBLAS's (and under
// `-fopenmp=libgomp` Clang silently drops it, which once left every lmc
// loop on one core).
//
// The team size is the calling thread's OpenMP setting (OMP_NUM_THREADS,
// else every processor this process may run on); TeamSize changes it for
// one run, for lmc's loops and OpenBLAS alike.

#ifndef LMC_RUNTIME_CPU_THREADPOOL_H
#define LMC_RUNTIME_CPU_THREADPOOL_H

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>

namespace lmc::cpu {

/// The threads a run on the calling thread uses: OMP_NUM_THREADS, else the
/// processors this process may run on.
int teamSize();

/// Sets the calling thread's team size (threads > 0) until destroyed; 0
/// keeps the current one.
class TeamSize {
public:
  explicit TeamSize(int threads);
  ~TeamSize();
  TeamSize(const TeamSize &) = delete;
  TeamSize &operator=(const TeamSize &) = delete;

private:
  int previous;
};

/// True inside a parallel region (loops and GEMMs there run on one thread).
bool inParallelRegion();

/// Runs body(thread, threads) once on each of `threads` threads at once,
/// the caller being thread 0; inside a parallel region, or for threads <= 1,
/// runs body(0, 1) on the caller.
void runTeam(int threads, const std::function<void(int thread, int threads)> &body);

/// Runs body(item, state) for every item in [0, count), handing items out
/// one at a time to the team's threads as they become free (a dynamic
/// schedule for items of uneven cost: order them heaviest first). Each
/// thread makes its own `state` (scratch buffers) with makeState() once.
template <typename MakeState, typename Body>
void parallelForEach(int64_t count, MakeState makeState, Body body) {
  std::atomic<int64_t> next{0};
  runTeam(int(std::min<int64_t>(teamSize(), count)), [&](int, int) {
    auto state = makeState();
    for (int64_t item = next++; item < count; item = next++)
      body(item, state);
  });
}

/// Runs body(begin, end) over [0, count) in contiguous chunks across the
/// team when the work is large enough to pay for threads; `cost` is the
/// work per item.
void parallelFor(int64_t count, int64_t cost, const std::function<void(int64_t, int64_t)> &body);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_THREADPOOL_H
