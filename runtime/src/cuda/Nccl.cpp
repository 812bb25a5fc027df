// Nccl.cpp - opening libnccl with dlopen.

#include "cuda/Nccl.h"

#include <dlfcn.h>

#include <mutex>

namespace lmc::cuda {
namespace {

bool open(Nccl &nccl, rt::Status &error) {
  void *library = nullptr;
  for (const char *name : {"libnccl.so.2", "libnccl.so"})
    if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
      break;
  if (!library)
    return error.fail(LMC_STATUS_UNAVAILABLE,
                      "no NCCL on this machine (cannot open libnccl.so.2; add the directory "
                      "holding it to LD_LIBRARY_PATH)");
#define LMC_LOAD(function)                                                                         \
  nccl.function = reinterpret_cast<decltype(nccl.function)>(dlsym(library, #function));            \
  if (!nccl.function)                                                                              \
    return error.fail(LMC_STATUS_UNAVAILABLE, "the NCCL library lacks " #function);
  LMC_NCCL_FUNCTIONS(LMC_LOAD)
#undef LMC_LOAD
  return true;
}

} // namespace

const Nccl *Nccl::get(rt::Status &error) {
  static Nccl nccl;
  static rt::Status failure;
  static std::once_flag once;
  static bool usable = false;
  std::call_once(once, [] { usable = open(nccl, failure); });
  if (!usable)
    error = failure;
  return usable ? &nccl : nullptr;
}

bool Nccl::check(ncclResult_t result, const std::string &what, rt::Status &error) const {
  if (result == ncclSuccess)
    return true;
  const char *text = ncclGetErrorString ? ncclGetErrorString(result) : nullptr;
  return error.fail(LMC_STATUS_UNAVAILABLE,
                    what + ": " + (text ? text : "NCCL error " + std::to_string(int(result))));
}

} // namespace lmc::cuda
