// ScratchPool.cpp - a best-fit free list of temporary buffers.

#include "cpu/ScratchPool.h"

#include <new>

namespace lmc::cpu {

std::shared_ptr<uint8_t[]> ScratchPool::take(size_t bytes) {
  bytes = std::max<size_t>(bytes, 64);
  uint8_t *buffer = nullptr;
  size_t capacity = bytes;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = idle.lower_bound(bytes);
    // A buffer more than twice too large would pin memory for small needs.
    if (found != idle.end() && found->first <= 2 * bytes) {
      capacity = found->first;
      buffer = found->second.release();
      idleBytes -= capacity;
      idle.erase(found);
    }
  }
  if (!buffer)
    buffer = new (std::nothrow) uint8_t[capacity];
  if (!buffer)
    return nullptr;
  return std::shared_ptr<uint8_t[]>(buffer,
                                    [this, capacity](uint8_t *b) { give(b, capacity); });
}

void ScratchPool::give(uint8_t *buffer, size_t capacity) {
  std::unique_ptr<uint8_t[]> owned(buffer);
  std::lock_guard<std::mutex> lock(mutex);
  if (idleBytes + capacity > maxIdleBytes)
    return;
  idleBytes += capacity;
  idle.emplace(capacity, std::move(owned));
}

} // namespace lmc::cpu
