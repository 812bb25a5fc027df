//===- KernelEmitter.h - CUDA C for the kernels of a plan -------*- C++ -*-===//
//
// The CUDA emitter works on a loaded plan (runtime/artifact/Plan.h): the
// same instructions, attribute orders and types the CPU backend interprets,
// so both backends read one description of every kernel. Each kernel becomes
// one translation unit (prelude + `extern "C" __global__` entry points) and
// a list of launches the CUDA backend runs in order:
//
//   fused     - entry points writing the values that must live in memory
//               (yielded results, values read twice not only by element
//               entry points, row normalizations, reductions); everything
//               else is computed inline where it is read (docs/cuda.md:
//               gather form)
//   attention - FlashAttention-2 over the host's list of query tiles
//   gemm      - no code: cuBLASLt runs it, bias epilogue included
//   optimizer - lmc.adamw_rows: copy the shard, then update touched rows
//   collective - no code: the runtime's communicator runs it
//
//===----------------------------------------------------------------------===//

#ifndef LMC_COMPILER_CUDA_KERNELEMITTER_H
#define LMC_COMPILER_CUDA_KERNELEMITTER_H

#include "artifact/OpSlots.h"
#include "artifact/Plan.h"

#include <string>
#include <vector>

namespace mlir::lmc::cuda {

/// Where each op keeps its attributes in an instruction (artifact/OpSlots.h).
namespace slot = ::lmc::ops::slot;

struct EmittedKernel {
  std::string source;
  std::vector<::lmc::rt::Launch> launches;
};

/// CUDA C for `kernel`. On failure returns false and sets `error` to what
/// the emitter cannot express (naming the instruction).
bool emitKernel(const ::lmc::rt::Plan &plan, const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                std::string &error);

bool emitFusedKernel(const ::lmc::rt::Plan &plan, const ::lmc::rt::Kernel &kernel,
                     EmittedKernel &out, std::string &error);
bool emitAttentionKernel(const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                         std::string &error);
bool emitAttentionGradKernel(const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                             std::string &error);
bool emitOptimizerKernel(const ::lmc::rt::Kernel &kernel, EmittedKernel &out,
                         std::string &error);

/// `value` as a CUDA C float literal with 9 significant digits ("0.125f").
std::string floatLiteral(double value);

} // namespace mlir::lmc::cuda

#endif // LMC_COMPILER_CUDA_KERNELEMITTER_H
