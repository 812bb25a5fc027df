// ThreadPool.cpp - lmc's parallel loops on libgomp's team (see ThreadPool.h).

#include "cpu/ThreadPool.h"

#include <omp.h>

// libgomp's entry point for a parallel region (the libgomp ABI, GCC >= 4.9):
// runs fn(data) on `threads` threads, the caller among them, and returns when
// all have finished. `flags` carries a proc_bind policy; 0 is none.
extern "C" void GOMP_parallel(void (*fn)(void *), void *data, unsigned threads, unsigned flags);

// libgomp is not built with ThreadSanitizer, so TSan cannot see that its
// fork and join order the caller's writes before the team's reads and the
// team's writes before the caller's next ones; these annotations say so.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LMC_ANNOTATE_FORK_JOIN 1
extern "C" void __tsan_acquire(void *address);
extern "C" void __tsan_release(void *address);
#endif
#endif

namespace lmc::cpu {
namespace {

/// What a thread wrote before publish(region) happens before what another
/// reads after receive(region) (a release and an acquire, for TSan).
void receive(void *region) {
#ifdef LMC_ANNOTATE_FORK_JOIN
  __tsan_acquire(region);
#endif
  (void)region;
}

void publish(void *region) {
#ifdef LMC_ANNOTATE_FORK_JOIN
  __tsan_release(region);
#endif
  (void)region;
}

} // namespace

int teamSize() { return omp_get_max_threads(); }

TeamSize::TeamSize(int threads) : previous(omp_get_max_threads()) {
  if (threads > 0)
    omp_set_num_threads(threads);
}

TeamSize::~TeamSize() { omp_set_num_threads(previous); }

bool inParallelRegion() { return omp_in_parallel() != 0; }

void runTeam(int threads, const std::function<void(int, int)> &body) {
  if (threads <= 1 || inParallelRegion()) {
    body(0, 1);
    return;
  }
  struct Region {
    const std::function<void(int, int)> &body;
  } region{body};
  publish(&region); // the fork: the team sees what the caller wrote
  GOMP_parallel(
      [](void *data) {
        receive(data);
        // libgomp may give fewer threads than asked (OMP_THREAD_LIMIT).
        static_cast<Region *>(data)->body(omp_get_thread_num(), omp_get_num_threads());
        publish(data);
      },
      &region, unsigned(threads), 0);
  receive(&region); // the join: the caller sees what the team wrote
}

void parallelFor(int64_t count, int64_t cost, const std::function<void(int64_t, int64_t)> &body) {
  // Below ~32K operations a thread costs more than it saves.
  constexpr int64_t kGrain = 1 << 15;
  int threads = teamSize();
  int64_t useful = std::max<int64_t>(1, count * std::max<int64_t>(cost, 1) / kGrain);
  int64_t chunks = std::min<int64_t>({int64_t(threads) * 4, useful, count});
  if (chunks <= 1 || inParallelRegion()) {
    if (count > 0)
      body(0, count);
    return;
  }
  parallelForEach(
      chunks, [] { return 0; },
      [&](int64_t chunk, int) {
        int64_t begin = count * chunk / chunks, end = count * (chunk + 1) / chunks;
        if (begin < end)
          body(begin, end);
      });
}

} // namespace lmc::cpu
