// HostShapes.h - the runtime shape of every value of a plan, on the host.
//
// The CUDA backend sizes grids, scratch and copies before any kernel runs,
// so it works out each kernel-local value's shape from its operands' shapes
// (the CPU backend learns them as it computes). The few shapes that depend
// on data -- the tokens of an unpad, the longest sequence of a pad -- come
// from integer values the host holds: model inputs such as lengths, and the
// cu_seqlens an unpad derives from them, which are computed here too.

#ifndef LMC_RUNTIME_CUDA_HOSTSHAPES_H
#define LMC_RUNTIME_CUDA_HOSTSHAPES_H

#include "artifact/Plan.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lmc::cuda {

struct HostValue {
  std::vector<int64_t> shape;
  /// The integer elements, when the host knows them (`known`).
  std::vector<int64_t> data;
  bool known = false;

  /// The elements from dimension `from` on (all of them by default).
  int64_t numElements(size_t from = 0) const;
};

/// Fills the instruction results of `locals` (which holds the kernel's
/// arguments on entry, and gets one entry per kernel-local value). On
/// failure returns false with `error` naming the instruction.
bool inferKernelShapes(const rt::Kernel &kernel, std::vector<HostValue> &locals,
                       std::string &error);

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_HOSTSHAPES_H
