// Nvrtc.h - compiling CUDA C to PTX and a cubin with NVRTC.
//
// The first piece of the CUDA backend (issue 6): the compiler stores PTX and
// a cubin per kernel in the package, and the runtime re-compiles the stored
// source for a device of another architecture. Emitted code uses raw
// intrinsics only, so only the toolkit's include folder is on the path
// (CCCL headers cost ~2 s per compile). Works without a GPU.

#ifndef LMC_RUNTIME_CUDA_NVRTC_H
#define LMC_RUNTIME_CUDA_NVRTC_H

#include "Status.h"

#include <string>

namespace lmc::cuda {

struct CompiledKernel {
  std::string ptx;
  /// Machine code for `arch`; empty for a virtual architecture (compute_XX).
  std::string cubin;
  /// NVRTC's log (warnings), also on success.
  std::string log;
};

/// Compiles one translation unit for `arch` ("sm_80", "sm_90", ...). On
/// failure returns false and sets `error` to the first lines of NVRTC's log,
/// naming `name`.
bool compileCuda(const std::string &source, const std::string &name, const std::string &arch,
                 CompiledKernel &out, rt::Status &error);

/// The registers, spill stores and spill loads `ptxas -v` reports for each
/// function of `ptx` on `arch`, as "name: N registers, S spill stores, L
/// spill loads" lines; false when ptxas cannot run.
bool ptxasResources(const std::string &ptx, const std::string &arch, std::string &report,
                    rt::Status &error);

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_NVRTC_H
