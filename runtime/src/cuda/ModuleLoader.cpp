// ModuleLoader.cpp - cubin, cached NVRTC output, or PTX.

#include "cuda/ModuleLoader.h"

#include "cuda/Nvrtc.h"
#include "io/AtomicFile.h"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>

namespace lmc::cuda {
namespace {

/// FNV-1a: a stable 64-bit hash (std::hash may differ between builds).
uint64_t fnv1a(const std::string &bytes, uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes)
    hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

bool load(const Driver &driver, const std::string &image, const rt::Kernel &kernel,
          const char *what, CUmodule &module, rt::Status &error) {
  return driver.check(driver.cuModuleLoadData(&module, image.c_str()),
                      "kernel '" + kernel.name + "': loading its " + what, error);
}

void makeDirectories(const std::string &path) {
  for (size_t slash = path.find('/', 1); ; slash = path.find('/', slash + 1)) {
    mkdir(path.substr(0, slash).c_str(), 0755);
    if (slash == std::string::npos)
      break;
  }
}

} // namespace

const char *moduleSourceName(ModuleSource source) {
  switch (source) {
  case ModuleSource::Cubin: return "cubin";
  case ModuleSource::Cache: return "cache";
  case ModuleSource::Nvrtc: return "nvrtc";
  case ModuleSource::Ptx: return "ptx";
  }
  return "?";
}

std::string defaultCacheDir() {
  if (const char *dir = std::getenv("LMC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::string(dir) + "/lmc";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/lmc";
  return "";
}

bool loadModule(const Driver &driver, const rt::Kernel &kernel, int arch, int driverVersion,
                const std::string &cacheDir, CUmodule &module, ModuleSource &source,
                rt::Status &error) {
  std::string smArch = "sm_" + std::to_string(arch);
  if (driver.loadsSource) {
    source = ModuleSource::Nvrtc;
    return load(driver, kernel.source, kernel, "source", module, error);
  }
  for (const rt::Binary &binary : kernel.binaries)
    if (binary.format == "cubin" && binary.arch == smArch) {
      source = ModuleSource::Cubin;
      return load(driver, binary.data, kernel, "cubin", module, error);
    }
  if (!kernel.source.empty()) {
    char key[17];
    std::snprintf(key, sizeof key, "%016llx",
                  (unsigned long long)fnv1a(smArch + "/" + std::to_string(driverVersion),
                                            fnv1a(kernel.source)));
    std::string path = cacheDir.empty() ? "" : cacheDir + "/" + key + "." + smArch + ".cubin";
    std::string cached;
    rt::Status ignored;
    if (!path.empty() && rt::readFile(path, cached, ignored) && !cached.empty() &&
        load(driver, cached, kernel, "cached cubin", module, ignored)) {
      source = ModuleSource::Cache;
      return true;
    }
    CompiledKernel compiled;
    if (!compileCuda(kernel.source, kernel.name, smArch, compiled, error))
      return false;
    if (!path.empty()) {
      makeDirectories(cacheDir);
      rt::writeFileAtomically(path, compiled.cubin, ignored);
    }
    source = ModuleSource::Nvrtc;
    return load(driver, compiled.cubin, kernel, "NVRTC cubin", module, error);
  }
  // PTX for the newest architecture the device can run.
  const rt::Binary *best = nullptr;
  int bestArch = 0;
  for (const rt::Binary &binary : kernel.binaries) {
    int ptxArch = binary.format == "ptx" ? std::atoi(binary.arch.c_str() + binary.arch.find('_') + 1) : 0;
    if (ptxArch > bestArch && ptxArch <= arch) {
      best = &binary;
      bestArch = ptxArch;
    }
  }
  if (!best)
    return error.fail("kernel '" + kernel.name + "' has no code for sm_" + std::to_string(arch) +
                      " (recompile the model with --target=" + smArch + ")");
  source = ModuleSource::Ptx;
  return load(driver, best->data, kernel, "PTX", module, error);
}

} // namespace lmc::cuda
