// ThreadPoolTest.cpp - the CPU backend's one team of threads
// (cpu/ThreadPool.h). The tests fail when lmc's parallel loops do not run
// in parallel, without timing anything: a chunk waits until another thread
// has entered another chunk, which only a second thread can do.

#include "cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace {

using lmc::cpu::parallelFor;
using lmc::cpu::parallelForEach;
using lmc::cpu::runTeam;
using lmc::cpu::TeamSize;

/// Lets the first `expected` arrivals through only together; false if that
/// has not happened within a minute (the loop ran on too few threads).
class Rendezvous {
public:
  explicit Rendezvous(int expected) : expected(expected) {}
  bool arrive() {
    std::unique_lock<std::mutex> lock(mutex);
    if (++arrived > expected)
      return true;
    ready.notify_all();
    return ready.wait_for(lock, std::chrono::minutes(1), [&] { return arrived >= expected; });
  }

private:
  int expected, arrived = 0;
  std::mutex mutex;
  std::condition_variable ready;
};

TEST(ThreadPool, RunTeamRunsOnceOnEachThreadAtOnce) {
  Rendezvous together(3);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::set<int> indices;
  bool met = true;
  runTeam(3, [&](int thread, int threads) {
    bool arrived = together.arrive();
    std::lock_guard<std::mutex> lock(mutex);
    met &= arrived;
    EXPECT_EQ(threads, 3);
    ids.insert(std::this_thread::get_id());
    indices.insert(thread);
  });
  EXPECT_TRUE(met) << "the team's threads never ran at the same time";
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(indices, (std::set<int>{0, 1, 2}));
}

TEST(ThreadPool, ParallelForSpreadsChunksOverTheTeam) {
  TeamSize team(2);
  EXPECT_EQ(lmc::cpu::teamSize(), 2);
  Rendezvous together(2);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::vector<int> visits(1 << 16, 0);
  bool met = true;
  parallelFor(int64_t(visits.size()), 64, [&](int64_t begin, int64_t end) {
    bool arrived = together.arrive();
    std::lock_guard<std::mutex> lock(mutex);
    met &= arrived;
    ids.insert(std::this_thread::get_id());
    for (int64_t i = begin; i < end; ++i)
      ++visits[size_t(i)];
  });
  EXPECT_TRUE(met) << "parallelFor ran its chunks one after another";
  EXPECT_EQ(ids.size(), 2u);
  for (int count : visits)
    ASSERT_EQ(count, 1);
}

TEST(ThreadPool, ParallelForEachGivesEveryThreadItsOwnState) {
  TeamSize team(2);
  Rendezvous together(2);
  std::mutex mutex;
  std::set<const void *> states;
  std::vector<int> visits(100, 0);
  parallelForEach(
      int64_t(visits.size()), [] { return std::vector<int>(8); },
      [&](int64_t item, std::vector<int> &state) {
        if (item < 2)
          EXPECT_TRUE(together.arrive());
        std::lock_guard<std::mutex> lock(mutex);
        states.insert(state.data());
        ++visits[size_t(item)];
      });
  EXPECT_EQ(states.size(), 2u);
  for (int count : visits)
    ASSERT_EQ(count, 1);
}

TEST(ThreadPool, OneThreadRunsOnTheCaller) {
  TeamSize team(1);
  std::set<std::thread::id> ids;
  parallelFor(1 << 20, 1024, [&](int64_t, int64_t) { ids.insert(std::this_thread::get_id()); });
  EXPECT_EQ(ids, (std::set<std::thread::id>{std::this_thread::get_id()}));
}

TEST(ThreadPool, LoopsInsideARegionRunOnTheirThread) {
  TeamSize team(2);
  std::mutex mutex;
  bool nestedStayed = true;
  runTeam(2, [&](int, int) {
    EXPECT_TRUE(lmc::cpu::inParallelRegion());
    std::thread::id self = std::this_thread::get_id();
    parallelFor(1 << 20, 1024, [&](int64_t, int64_t) {
      std::lock_guard<std::mutex> lock(mutex);
      nestedStayed &= std::this_thread::get_id() == self;
    });
  });
  EXPECT_TRUE(nestedStayed);
  EXPECT_FALSE(lmc::cpu::inParallelRegion());
}

TEST(ThreadPool, TeamSizeIsRestored) {
  int before = lmc::cpu::teamSize();
  {
    TeamSize team(before + 3);
    EXPECT_EQ(lmc::cpu::teamSize(), before + 3);
    TeamSize keep(0);
    EXPECT_EQ(lmc::cpu::teamSize(), before + 3);
  }
  EXPECT_EQ(lmc::cpu::teamSize(), before);
}

} // namespace
