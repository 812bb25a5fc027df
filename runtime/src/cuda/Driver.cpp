// Driver.cpp - opening libcuda and libcublasLt with dlopen.

#include "cuda/Driver.h"

#include <dlfcn.h>

#include <mutex>

namespace lmc::cuda {
namespace {

#define LMC_STRING(x) #x
#define LMC_SYMBOL(x) LMC_STRING(x)

void *openFirst(std::initializer_list<const char *> names, std::string &tried) {
  for (const char *name : names) {
    if (void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL))
      return handle;
    tried += std::string(tried.empty() ? "" : ", ") + name;
  }
  return nullptr;
}

bool open(Driver &driver, rt::Status &error) {
  std::string tried;
  void *cuda = openFirst({"libcuda.so.1", "libcuda.so"}, tried);
  if (!cuda)
    return error.fail(LMC_STATUS_UNAVAILABLE,
                      "no CUDA driver on this machine (cannot open " + tried + ")");
  void *blas = openFirst({"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}, tried);
  if (!blas)
    return error.fail(LMC_STATUS_UNAVAILABLE,
                      "no cuBLASLt on this machine (cannot open " + tried + ")");
#define LMC_LOAD_FROM(library, function)                                                           \
  driver.function =                                                                                \
      reinterpret_cast<decltype(driver.function)>(dlsym(library, LMC_SYMBOL(function)));           \
  if (!driver.function)                                                                            \
    return error.fail(LMC_STATUS_UNAVAILABLE,                                                      \
                      std::string("the CUDA libraries lack ") + LMC_SYMBOL(function));
#define LMC_LOAD_DRIVER(function) LMC_LOAD_FROM(cuda, function)
#define LMC_LOAD_CUBLASLT(function) LMC_LOAD_FROM(blas, function)
  LMC_DRIVER_FUNCTIONS(LMC_LOAD_DRIVER)
  LMC_CUBLASLT_FUNCTIONS(LMC_LOAD_CUBLASLT)
  CUresult initialized = driver.cuInit(0);
  if (initialized != CUDA_SUCCESS)
    return driver.check(initialized, "cuInit (is there a GPU?)", error);
  return true;
}

} // namespace

const Driver *Driver::get(rt::Status &error) {
  static Driver driver;
  static rt::Status failure;
  static std::once_flag once;
  static bool usable = false;
  std::call_once(once, [] { usable = open(driver, failure); });
  if (!usable)
    error = failure;
  return usable ? &driver : nullptr;
}

bool Driver::check(CUresult result, const std::string &what, rt::Status &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  // Out of memory and a missing or unusable device have codes of their own;
  // anything else is a failure inside lmc's use of the device.
  lmc_status_code_t code =
      result == CUDA_ERROR_OUT_OF_MEMORY ? LMC_STATUS_OUT_OF_MEMORY
      : result == CUDA_ERROR_NO_DEVICE || result == CUDA_ERROR_INVALID_DEVICE ||
              result == CUDA_ERROR_NOT_INITIALIZED || result == CUDA_ERROR_DEINITIALIZED
          ? LMC_STATUS_UNAVAILABLE
          : LMC_STATUS_INTERNAL;
  return error.fail(code, what + ": " +
                              (name ? name : "CUDA error " + std::to_string(int(result))) +
                              (text ? std::string(": ") + text : ""));
}

bool Driver::check(cublasStatus_t status, const std::string &what, rt::Status &error) const {
  if (status == CUBLAS_STATUS_SUCCESS)
    return true;
  return error.fail(status == CUBLAS_STATUS_ALLOC_FAILED ? LMC_STATUS_OUT_OF_MEMORY
                                                         : LMC_STATUS_INTERNAL,
                    what + ": cuBLASLt status " + std::to_string(int(status)));
}

} // namespace lmc::cuda
