// ModuleLoader.h - a kernel's code as a loaded CUDA module.
//
// In order of preference: the package's cubin for the device's exact
// architecture; else its CUDA C compiled by NVRTC for the device, kept in an
// on-disk cache keyed by a hash of the source, the architecture and the
// driver version (a second run compiles nothing); else its PTX, compiled by
// the driver. The cache lives in $LMC_CACHE_DIR, else $XDG_CACHE_HOME/lmc,
// else ~/.cache/lmc; a cache that cannot be written only costs time.

#ifndef LMC_RUNTIME_CUDA_MODULELOADER_H
#define LMC_RUNTIME_CUDA_MODULELOADER_H

#include "Status.h"
#include "artifact/Plan.h"
#include "cuda/Driver.h"

#include <string>

namespace lmc::cuda {

enum class ModuleSource { Cubin, Cache, Nvrtc, Ptx };

const char *moduleSourceName(ModuleSource source);

/// The default cache folder (see above).
std::string defaultCacheDir();

/// Loads `kernel`'s module for a device of compute capability `arch`
/// (90 for sm_90) under driver version `driverVersion`.
bool loadModule(const Driver &driver, const rt::Kernel &kernel, int arch, int driverVersion,
                const std::string &cacheDir, CUmodule &module, ModuleSource &source,
                rt::Status &error);

} // namespace lmc::cuda

#endif // LMC_RUNTIME_CUDA_MODULELOADER_H
