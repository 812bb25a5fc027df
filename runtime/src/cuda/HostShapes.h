// HostShapes.h - the runtime shape of every value of a plan, on the host.
//
// The CUDA backend sizes grids, scratch and copies before any kernel runs,
// so it works out each kernel-local value's shape from its operands' shapes
// with the ops' shape rules (artifact/ShapeRules.h), as the CPU backend does
// when it allocates each result. The few shapes that depend
// on data -- the tokens of an unpad, the longest sequence of a pad -- come
// from integer values the host holds: model inputs such as lengths, and the
// cu_seqlens an unpad derives from them, which are computed here too.

#ifndef LMC_RUNTIME_CUDA_HOSTSHAPES_H
#define LMC_RUNTIME_CUDA_HOSTSHAPES_H

#include "Status.h"
#include "artifact/ShapeRules.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lmc::cuda {

/// A kernel-local value's shape, and its integer elements when the host
/// knows them (model inputs such as lengths, and what is derived from them).
using HostValue = ops::ValueShape;

/// Fills the instruction results of `locals` (which holds the kernel's
/// arguments on entry, and gets one entry per kernel-local value). On
/// failure returns false with `error` naming the instruction.
bool inferKernelShapes(const rt::Kernel &kernel, std::vector<HostValue> &locals, rt::Status &error);

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_HOSTSHAPES_H
