// ScratchPool.h - buffers for kernel temporaries, reused across runs.
//
// A fused kernel's intermediate results live for one kernel; allocating
// them fresh each time costs a page fault per page touched, which measured
// 6% of the encoder benchmark. The pool hands out released buffers again
// (the smallest one large enough) and is safe to share between threads.

#ifndef LMC_RUNTIME_CPU_SCRATCHPOOL_H
#define LMC_RUNTIME_CPU_SCRATCHPOOL_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace lmc::cpu {

class ScratchPool {
public:
  /// Keeps at most `maxIdleBytes` of released buffers (the rest are freed).
  explicit ScratchPool(size_t maxIdleBytes = size_t(1) << 30) : maxIdleBytes(maxIdleBytes) {}
  ScratchPool(const ScratchPool &) = delete;
  ScratchPool &operator=(const ScratchPool &) = delete;

  /// At least `bytes` bytes, uninitialized; null when allocation fails. The
  /// buffer returns to the pool when the last reference goes (the pool must
  /// outlive it).
  std::shared_ptr<uint8_t[]> take(size_t bytes);

private:
  void give(uint8_t *buffer, size_t capacity);

  std::mutex mutex;
  std::multimap<size_t, std::unique_ptr<uint8_t[]>> idle;
  size_t idleBytes = 0;
  const size_t maxIdleBytes;
};

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_SCRATCHPOOL_H
