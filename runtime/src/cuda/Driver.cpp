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

bool open(Driver &driver, std::string &error) {
  std::string tried;
  void *cuda = openFirst({"libcuda.so.1", "libcuda.so"}, tried);
  if (!cuda)
    return (error = "no CUDA driver on this machine (cannot open " + tried + ")"), false;
  void *blas = openFirst({"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}, tried);
  if (!blas)
    return (error = "no cuBLASLt on this machine (cannot open " + tried + ")"), false;
#define LMC_LOAD_FROM(library, function)                                                          \
  driver.function = reinterpret_cast<decltype(driver.function)>(dlsym(library, LMC_SYMBOL(function))); \
  if (!driver.function)                                                                           \
    return (error = std::string("the CUDA libraries lack ") + LMC_SYMBOL(function)), false;
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

const Driver *Driver::get(std::string &error) {
  static Driver driver;
  static std::string failure;
  static std::once_flag once;
  static bool usable = false;
  std::call_once(once, [] { usable = open(driver, failure); });
  if (!usable)
    error = failure;
  return usable ? &driver : nullptr;
}

bool Driver::check(CUresult result, const std::string &what, std::string &error) const {
  if (result == CUDA_SUCCESS)
    return true;
  const char *name = nullptr, *text = nullptr;
  if (cuGetErrorName)
    cuGetErrorName(result, &name);
  if (cuGetErrorString)
    cuGetErrorString(result, &text);
  error = what + ": " + (name ? name : "CUDA error " + std::to_string(int(result))) +
          (text ? std::string(": ") + text : "");
  return false;
}

bool Driver::check(cublasStatus_t status, const std::string &what, std::string &error) const {
  if (status == CUBLAS_STATUS_SUCCESS)
    return true;
  error = what + ": cuBLASLt status " + std::to_string(int(status));
  return false;
}

} // namespace lmc::cuda
