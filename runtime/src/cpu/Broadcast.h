// Broadcast.h - NumPy broadcasting for the CPU backend's n-ary ops.

#ifndef LMC_RUNTIME_CPU_BROADCAST_H
#define LMC_RUNTIME_CPU_BROADCAST_H

#include "cpu/Tensor.h"

#include <optional>

namespace lmc::cpu {

/// How an operand's elements line up with the result's.
struct Broadcast {
  enum class Kind {
    Same,    // same shape: element i
    Suffix,  // the result's trailing dimensions: element i % width
    General, // anything else: strides per dimension
  };
  std::vector<int64_t> shape;
  std::vector<Kind> kinds;
  std::vector<int64_t> widths;
  std::vector<std::vector<int64_t>> strides;
  std::vector<int64_t> outputStrides;

  /// The operand's element for result element `i`.
  int64_t index(size_t operand, int64_t i) const {
    switch (kinds[operand]) {
    case Kind::Same: return i;
    case Kind::Suffix: return i % widths[operand];
    case Kind::General: break;
    }
    int64_t offset = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      offset += (i / outputStrides[d]) % shape[d] * strides[operand][d];
    return offset;
  }
};

/// The broadcast of `operands`' shapes, or nullopt when they do not
/// broadcast.
std::optional<Broadcast> broadcastShapes(const std::vector<const Tensor *> &operands);

} // namespace lmc::cpu

#endif // LMC_RUNTIME_CPU_BROADCAST_H
