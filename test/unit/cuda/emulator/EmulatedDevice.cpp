// EmulatedDevice.cpp - the host-side CUDA driver and cuBLASLt of the tests.

#include "EmulatedDevice.h"
#include "EmulatedStreams.h"

#include "cpu/HalfFloat.h"

#include <dlfcn.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

// The shim's view of a CUDA thread (cuda_shim.h, lmc_emu_thread).
struct lmc_emu_dim3 {
  unsigned x, y, z;
};
struct lmc_emu_thread {
  lmc_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
};

namespace lmc::testing {
namespace {

EmulatorCounts counts;
/// The compute capability the emulator reports, times ten (75 or 80).
int emulatedArch = 75;

// ---- fibers: one per CUDA thread of the running block ----------------------

constexpr size_t kStackBytes = 128 * 1024;

struct Fiber {
  ucontext_t context;
  std::unique_ptr<char[]> stack;
  lmc_emu_thread coordinates;
  bool done = false;
};

void yieldFiber();

/// Threads that wait for each other: the lanes of a warp at a collective,
/// the threads of a block at __syncthreads(). A finished thread leaves.
struct Meeting {
  int arrived = 0, members = 0;
  unsigned generation = 0;

  /// Waits until every member has arrived.
  void meet() {
    unsigned number = generation;
    if (++arrived == members)
      release();
    while (generation == number)
      yieldFiber();
  }
  void leave() {
    if (--members > 0 && arrived == members)
      release();
  }

private:
  void release() {
    arrived = 0;
    ++generation;
  }
};

/// A warp's collectives (a shuffle, ldmatrix, mma): two buffers of per-lane
/// slots, alternating, so a lane can start the next collective while the
/// others still read this one's.
constexpr size_t kSlotBytes = 64; // kLmcEmuSlot in cuda_shim.h
struct Warp {
  unsigned char slots[2][32][kSlotBytes];
  Meeting lanes;
};

/// A kernel as the emulator calls it: its address and, per parameter,
/// whether it is 4 bytes (int) rather than 8 (pointer or int64).
struct Function {
  void *address = nullptr;
  std::vector<bool> narrow;
};

struct Runner {
  std::vector<Fiber> fibers;
  std::vector<Warp> warps;
  Meeting block; // __syncthreads()
  ucontext_t scheduler;
  size_t current = 0;
  const Function *function = nullptr;
  std::vector<uint64_t> arguments;
} runner;

lmc_emu_thread *self() { return &runner.fibers[runner.current].coordinates; }

void yieldFiber() { swapcontext(&runner.fibers[runner.current].context, &runner.scheduler); }

const unsigned char *warpExchange(const void *mine, unsigned long bytes) {
  size_t lane = runner.current % 32;
  Warp &warp = runner.warps[runner.current / 32];
  unsigned buffer = warp.lanes.generation & 1;
  std::memcpy(warp.slots[buffer][lane], mine, std::min<size_t>(bytes, kSlotBytes));
  warp.lanes.meet();
  return &warp.slots[buffer][0][0];
}

void blockBarrier() { runner.block.meet(); }

/// Calls `address` with `count` 8-byte integer-class arguments (the x86-64
/// System V convention passes pointers, int64 and int alike).
template <size_t... I>
void callWith(void *address, const uint64_t *arguments, std::index_sequence<I...>) {
  using Signature = void (*)(decltype(I, uint64_t())...);
  reinterpret_cast<Signature>(address)(arguments[I]...);
}

template <size_t... N>
constexpr auto makeCallTable(std::index_sequence<N...>) {
  return std::array<void (*)(void *, const uint64_t *), sizeof...(N)>{
      [](void *address, const uint64_t *arguments) {
        callWith(address, arguments, std::make_index_sequence<N>());
      }...};
}
constexpr size_t kMaxArguments = 48;
const auto kCallTable = makeCallTable(std::make_index_sequence<kMaxArguments + 1>());

void fiberMain() {
  kCallTable[runner.arguments.size()](runner.function->address, runner.arguments.data());
  Fiber &fiber = runner.fibers[runner.current];
  fiber.done = true;
  runner.warps[runner.current / 32].lanes.leave();
  runner.block.leave();
}

void runBlock(lmc_emu_dim3 block, lmc_emu_dim3 grid, lmc_emu_dim3 threads) {
  size_t count = size_t(threads.x) * threads.y * threads.z;
  if (runner.fibers.size() < count)
    runner.fibers.resize(count);
  runner.warps.assign((count + 31) / 32, Warp());
  runner.block = Meeting();
  runner.block.members = int(count);
  for (size_t t = 0; t < count; ++t) {
    Fiber &fiber = runner.fibers[t];
    if (!fiber.stack)
      fiber.stack.reset(new char[kStackBytes]);
    getcontext(&fiber.context);
    fiber.context.uc_stack.ss_sp = fiber.stack.get();
    fiber.context.uc_stack.ss_size = kStackBytes;
    fiber.context.uc_link = &runner.scheduler;
    makecontext(&fiber.context, fiberMain, 0);
    fiber.done = false;
    fiber.coordinates = {{unsigned(t % threads.x), unsigned(t / threads.x % threads.y),
                          unsigned(t / threads.x / threads.y)},
                         block, threads, grid};
    ++runner.warps[t / 32].lanes.members;
  }
  for (size_t remaining = count; remaining > 0;) {
    remaining = 0;
    for (size_t t = 0; t < count; ++t) {
      if (runner.fibers[t].done)
        continue;
      runner.current = t;
      swapcontext(&runner.scheduler, &runner.fibers[t].context);
      remaining += !runner.fibers[t].done;
    }
  }
}

// ---- modules: emitted CUDA C compiled as C++ -------------------------------

struct Module {
  void *library = nullptr;
  std::string source;
  std::map<std::string, Function> functions;
};

/// A folder of this process's own for the modules it compiles, removed
/// when the process exits (the libraries it loaded stay mapped).
std::string compileDirectory() {
  struct Folder {
    std::string path;
    bool owned = false;
    Folder() {
      char name[] = "/tmp/lmc-emulator-XXXXXX";
      owned = mkdtemp(name) != nullptr;
      path = owned ? name : "/tmp";
    }
    ~Folder() {
      std::error_code ignored;
      if (owned)
        std::filesystem::remove_all(path, ignored);
    }
  };
  static Folder folder;
  return folder.path;
}

/// The parameter list of entry `name` in `source`: narrow (int) or not.
bool parameterWidths(const std::string &source, const std::string &name,
                     std::vector<bool> &narrow) {
  size_t at = source.find(" " + name + "(");
  if (at == std::string::npos)
    return false;
  size_t open = at + name.size() + 2, close = source.find(')', open);
  std::string list = source.substr(open, close - open);
  narrow.clear();
  for (size_t start = 0; start < list.size();) {
    size_t comma = list.find(',', start);
    std::string parameter = list.substr(start, comma - start);
    parameter.erase(0, parameter.find_first_not_of(" \n"));
    narrow.push_back(parameter.rfind("const int ", 0) == 0 && parameter.find('*') == std::string::npos);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
}

// ---- the driver API ---------------------------------------------------------

CUresult CUDAAPI init(unsigned int) { return CUDA_SUCCESS; }
CUresult CUDAAPI driverVersion(int *version) {
  *version = 13000;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI deviceCount(int *count) {
  *count = kEmulatedDevices;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI deviceGet(CUdevice *device, int ordinal) {
  if (ordinal < 0 || ordinal >= kEmulatedDevices)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  counts.device = ordinal;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI deviceAttribute(int *value, CUdevice_attribute attribute, CUdevice) {
  *value = attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ? emulatedArch / 10
           : attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ? emulatedArch % 10
                                                                      : 0;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI deviceName(char *name, int length, CUdevice) {
  std::strncpy(name, "lmc device emulator", size_t(length));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI retainContext(CUcontext *context, CUdevice) {
  static int token;
  *context = reinterpret_cast<CUcontext>(&token);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI releaseContext(CUdevice) { return CUDA_SUCCESS; }
CUresult CUDAAPI setContext(CUcontext) { return CUDA_SUCCESS; }

CUresult CUDAAPI loadModule(CUmodule *module, const void *image) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto owned = std::make_unique<Module>();
  owned->source = static_cast<const char *>(image);
  // A source this process compiled before (another backend of the same
  // package) is loaded again rather than compiled again.
  static std::map<std::string, std::string> libraries; // arch and source -> .so
  std::string &library = libraries[std::to_string(emulatedArch) + "\n" + owned->source];
  if (library.empty()) {
    std::string base = compileDirectory() + "/module" + std::to_string(counts.modules);
    std::ofstream(base + ".cpp") << owned->source;
    bool bf16 = owned->source.find("#define LMC_MMA_TYPE \"bf16\"") != std::string::npos;
    std::string arch = std::to_string(emulatedArch * 10);
    // The shim precompiled for these flags (test/unit/cuda/CMakeLists.txt),
    // else the shim itself.
    std::string pch = std::string(LMC_EMULATOR_PCH_DIR) + "/cuda_shim-" + arch +
                      (bf16 ? "-bf16" : "-plain") + ".pch";
    std::string shim = *LMC_EMULATOR_PCH_DIR && std::ifstream(pch).good()
                           ? " -include-pch " + pch
                           : std::string(" -include ") + LMC_EMULATOR_SHIM;
    std::string command = std::string(LMC_EMULATOR_CXX) + " -std=c++17 -O0 -w -shared -fPIC" +
                          " -D__CUDA_ARCH__=" + arch + (bf16 ? " -DLMC_EMU_BF16" : "") + shim +
                          " -I" + LMC_EMULATOR_INCLUDE + " " + base + ".cpp -o " + base +
                          ".so 2> " + base + ".log";
    if (std::system(command.c_str()) != 0)
      return CUDA_ERROR_INVALID_SOURCE;
    library = base + ".so";
    ++counts.modules;
  }
  owned->library = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  using Bind = void (*)(lmc_emu_thread *(*)(), const unsigned char *(*)(const void *, unsigned long),
                       void (*)());
  auto bind = owned->library ? reinterpret_cast<Bind>(dlsym(owned->library, "lmc_emu_bind"))
                             : nullptr;
  if (!bind)
    return CUDA_ERROR_INVALID_IMAGE;
  bind(self, warpExchange, blockBarrier);
  *module = reinterpret_cast<CUmodule>(owned.release());
  return CUDA_SUCCESS;
}
CUresult CUDAAPI unloadModule(CUmodule module) {
  delete reinterpret_cast<Module *>(module);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI moduleFunction(CUfunction *function, CUmodule handle, const char *name) {
  Module *module = reinterpret_cast<Module *>(handle);
  Function &entry = module->functions[name];
  entry.address = dlsym(module->library, name);
  if (!entry.address || !parameterWidths(module->source, name, entry.narrow))
    return CUDA_ERROR_NOT_FOUND;
  *function = reinterpret_cast<CUfunction>(&entry);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI setFunctionAttribute(CUfunction, CUfunction_attribute, int) {
  return CUDA_SUCCESS;
}
CUresult CUDAAPI launchKernel(CUfunction handle, unsigned gridX, unsigned gridY, unsigned gridZ,
                              unsigned blockX, unsigned blockY, unsigned blockZ, unsigned,
                              CUstream stream, void **parameters, void **) {
  const Function *function = reinterpret_cast<const Function *>(handle);
  if (function->narrow.size() > kMaxArguments)
    return CUDA_ERROR_INVALID_VALUE;
  std::vector<uint64_t> arguments; // read now, as cuLaunchKernel does
  for (size_t p = 0; p < function->narrow.size(); ++p) {
    uint64_t value = 0;
    std::memcpy(&value, parameters[p], function->narrow[p] ? 4 : 8);
    arguments.push_back(value);
  }
  ++counts.launches;
  lmc_emu_dim3 grid{gridX, gridY, gridZ}, threads{blockX, blockY, blockZ};
  return streams::enqueue(stream, [=] {
    runner.function = function;
    runner.arguments = arguments;
    for (unsigned z = 0; z < grid.z; ++z)
      for (unsigned y = 0; y < grid.y; ++y)
        for (unsigned x = 0; x < grid.x; ++x)
          runBlock({x, y, z}, grid, threads);
    return CUDA_SUCCESS;
  });
}

CUresult CUDAAPI allocate(CUdeviceptr *pointer, size_t bytes) {
  void *memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory)
    return CUDA_ERROR_OUT_OF_MEMORY;
  std::memset(memory, 0xff, bytes); // NaN in every float type
  *pointer = reinterpret_cast<CUdeviceptr>(memory);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI release(CUdeviceptr pointer) {
  streams::drainAll(); // queued work may still use it
  std::free(reinterpret_cast<void *>(pointer));
  return CUDA_SUCCESS;
}
// A copy from pageable host memory reads it before returning (CUDA stages
// it); everything else waits in the stream's queue.
CUresult CUDAAPI copyIn(CUdeviceptr to, const void *from, size_t bytes, CUstream stream) {
  auto data = std::make_shared<std::vector<char>>(static_cast<const char *>(from),
                                                  static_cast<const char *>(from) + bytes);
  return streams::enqueue(stream, [=] {
    std::memcpy(reinterpret_cast<void *>(to), data->data(), bytes);
    return CUDA_SUCCESS;
  });
}
CUresult CUDAAPI copyOut(void *to, CUdeviceptr from, size_t bytes, CUstream stream) {
  return streams::enqueue(stream, [=] {
    std::memcpy(to, reinterpret_cast<const void *>(from), bytes);
    return CUDA_SUCCESS;
  });
}
CUresult CUDAAPI copyOnDevice(CUdeviceptr to, CUdeviceptr from, size_t bytes, CUstream stream) {
  return streams::enqueue(stream, [=] {
    std::memmove(reinterpret_cast<void *>(to), reinterpret_cast<const void *>(from), bytes);
    return CUDA_SUCCESS;
  });
}
CUresult CUDAAPI fill(CUdeviceptr to, unsigned char value, size_t bytes, CUstream stream) {
  return streams::enqueue(stream, [=] {
    std::memset(reinterpret_cast<void *>(to), value, bytes);
    return CUDA_SUCCESS;
  });
}
CUresult CUDAAPI errorName(CUresult result, const char **name) {
  switch (result) {
  case CUDA_ERROR_INVALID_SOURCE: *name = "CUDA_ERROR_INVALID_SOURCE (the host compiler failed)"; break;
  case CUDA_ERROR_NOT_FOUND: *name = "CUDA_ERROR_NOT_FOUND (no such entry point)"; break;
  default: *name = "CUDA_ERROR (emulated)"; break;
  }
  return CUDA_SUCCESS;
}
CUresult CUDAAPI errorString(CUresult, const char **text) {
  *text = "the emulated driver failed";
  return CUDA_SUCCESS;
}

// ---- cuBLASLt ---------------------------------------------------------------

struct Layout {
  cudaDataType type;
  uint64_t rows, cols;
  int64_t ld;
};
struct MatmulDesc {
  cublasOperation_t transposeA = CUBLAS_OP_N, transposeB = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void *bias = nullptr;
};

float loadAs(cudaDataType type, const void *data, int64_t i) {
  if (type == CUDA_R_32F)
    return static_cast<const float *>(data)[i];
  uint16_t bits = static_cast<const uint16_t *>(data)[i];
  if (type == CUDA_R_16F)
    return cpu::halfToFloat(bits);
  uint32_t wide = uint32_t(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

void storeAs(cudaDataType type, void *data, int64_t i, float value) {
  if (type == CUDA_R_32F) {
    static_cast<float *>(data)[i] = value;
  } else if (type == CUDA_R_16F) {
    static_cast<uint16_t *>(data)[i] = cpu::floatToHalf(value);
  } else {
    uint16_t bits;
    cpu::floatToBfloat(&value, &bits, 1);
    static_cast<uint16_t *>(data)[i] = bits;
  }
}

cublasStatus_t CUBLASWINAPI blasCreate(cublasLtHandle_t *handle) {
  static int token;
  *handle = reinterpret_cast<cublasLtHandle_t>(&token);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI blasDestroy(cublasLtHandle_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t CUBLASWINAPI descCreate(cublasLtMatmulDesc_t *desc, cublasComputeType_t,
                                       cudaDataType_t) {
  *desc = reinterpret_cast<cublasLtMatmulDesc_t>(new MatmulDesc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI descDestroy(cublasLtMatmulDesc_t desc) {
  delete reinterpret_cast<MatmulDesc *>(desc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI descSet(cublasLtMatmulDesc_t handle,
                                    cublasLtMatmulDescAttributes_t attribute, const void *buffer,
                                    size_t) {
  MatmulDesc *desc = reinterpret_cast<MatmulDesc *>(handle);
  switch (attribute) {
  case CUBLASLT_MATMUL_DESC_TRANSA: std::memcpy(&desc->transposeA, buffer, sizeof desc->transposeA); break;
  case CUBLASLT_MATMUL_DESC_TRANSB: std::memcpy(&desc->transposeB, buffer, sizeof desc->transposeB); break;
  case CUBLASLT_MATMUL_DESC_EPILOGUE: std::memcpy(&desc->epilogue, buffer, sizeof desc->epilogue); break;
  case CUBLASLT_MATMUL_DESC_BIAS_POINTER: std::memcpy(&desc->bias, buffer, sizeof desc->bias); break;
  default: return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI layoutCreate(cublasLtMatrixLayout_t *layout, cudaDataType type,
                                         uint64_t rows, uint64_t cols, int64_t ld) {
  *layout = reinterpret_cast<cublasLtMatrixLayout_t>(new Layout{type, rows, cols, ld});
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI layoutDestroy(cublasLtMatrixLayout_t layout) {
  delete reinterpret_cast<Layout *>(layout);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI preferenceCreate(cublasLtMatmulPreference_t *preference) {
  static int token;
  *preference = reinterpret_cast<cublasLtMatmulPreference_t>(&token);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI preferenceDestroy(cublasLtMatmulPreference_t) {
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI preferenceSet(cublasLtMatmulPreference_t,
                                          cublasLtMatmulPreferenceAttributes_t, const void *,
                                          size_t) {
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t CUBLASWINAPI heuristic(cublasLtHandle_t, cublasLtMatmulDesc_t,
                                      cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                      cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                      cublasLtMatmulPreference_t, int,
                                      cublasLtMatmulHeuristicResult_t results[], int *count) {
  std::memset(&results[0], 0, sizeof results[0]);
  *count = 1;
  return CUBLAS_STATUS_SUCCESS;
}

/// D = alpha op(A) op(B) + beta C (+ bias per row), column-major.
void multiply(const MatmulDesc &desc, float scale, const void *a, const Layout &la, const void *b,
              const Layout &lb, float keep, const void *c, const Layout &lc, void *d,
              const Layout &ld) {
  bool ta = desc.transposeA == CUBLAS_OP_T, tb = desc.transposeB == CUBLAS_OP_T;
  uint64_t depth = ta ? la.rows : la.cols;
  for (uint64_t j = 0; j < ld.cols; ++j)
    for (uint64_t i = 0; i < ld.rows; ++i) {
      float sum = 0;
      for (uint64_t k = 0; k < depth; ++k)
        sum += loadAs(la.type, a, int64_t(ta ? k + i * uint64_t(la.ld) : i + k * uint64_t(la.ld))) *
               loadAs(lb.type, b, int64_t(tb ? j + k * uint64_t(lb.ld) : k + j * uint64_t(lb.ld)));
      float value = scale * sum;
      if (keep != 0)
        value += keep * loadAs(lc.type, c, int64_t(i + j * uint64_t(lc.ld)));
      if (desc.epilogue == CUBLASLT_EPILOGUE_BIAS)
        value += loadAs(ld.type, desc.bias, int64_t(i));
      storeAs(ld.type, d, int64_t(i + j * uint64_t(ld.ld)), value);
    }
}

/// cublasLtMatmul: multiply(), queued on the stream.
cublasStatus_t CUBLASWINAPI matmul(cublasLtHandle_t, cublasLtMatmulDesc_t descHandle,
                                   const void *alpha, const void *a,
                                   cublasLtMatrixLayout_t aHandle, const void *b,
                                   cublasLtMatrixLayout_t bHandle, const void *beta, const void *c,
                                   cublasLtMatrixLayout_t cHandle, void *d,
                                   cublasLtMatrixLayout_t dHandle, const cublasLtMatmulAlgo_t *,
                                   void *, size_t, cudaStream_t stream) {
  // The descriptors and scalars are read now; the product runs in turn.
  MatmulDesc desc = *reinterpret_cast<MatmulDesc *>(descHandle);
  Layout la = *reinterpret_cast<Layout *>(aHandle), lb = *reinterpret_cast<Layout *>(bHandle);
  Layout lc = *reinterpret_cast<Layout *>(cHandle), ld = *reinterpret_cast<Layout *>(dHandle);
  float scale = *static_cast<const float *>(alpha), keep = *static_cast<const float *>(beta);
  streams::enqueue(reinterpret_cast<CUstream>(stream), [=] {
    multiply(desc, scale, a, la, b, lb, keep, c, lc, d, ld);
    return CUDA_SUCCESS;
  });
  return CUBLAS_STATUS_SUCCESS;
}

cuda::Driver makeDriver() {
  cuda::Driver driver;
  driver.cuInit = init;
  driver.cuDriverGetVersion = driverVersion;
  driver.cuDeviceGetCount = deviceCount;
  driver.cuDeviceGet = deviceGet;
  driver.cuDeviceGetAttribute = deviceAttribute;
  driver.cuDeviceGetName = deviceName;
  driver.cuDevicePrimaryCtxRetain = retainContext;
  driver.cuDevicePrimaryCtxRelease = releaseContext;
  driver.cuCtxSetCurrent = setContext;
  driver.cuModuleLoadData = loadModule;
  driver.cuModuleUnload = unloadModule;
  driver.cuModuleGetFunction = moduleFunction;
  driver.cuFuncSetAttribute = setFunctionAttribute;
  driver.cuLaunchKernel = launchKernel;
  driver.cuMemAlloc = allocate;
  driver.cuMemFree = release;
  driver.cuMemcpyHtoDAsync = copyIn;
  driver.cuMemcpyDtoHAsync = copyOut;
  driver.cuMemcpyDtoDAsync = copyOnDevice;
  driver.cuMemsetD8Async = fill;
  driver.cuStreamCreate = streams::create;
  driver.cuStreamDestroy = streams::destroy;
  driver.cuStreamSynchronize = streams::synchronize;
  driver.cuStreamWaitEvent = streams::waitEvent;
  driver.cuEventCreate = streams::createEvent;
  driver.cuEventDestroy = streams::destroyEvent;
  driver.cuEventRecord = streams::record;
  driver.cuGetErrorName = errorName;
  driver.cuGetErrorString = errorString;
  driver.cublasLtCreate = blasCreate;
  driver.cublasLtDestroy = blasDestroy;
  driver.cublasLtMatmulDescCreate = descCreate;
  driver.cublasLtMatmulDescDestroy = descDestroy;
  driver.cublasLtMatmulDescSetAttribute = descSet;
  driver.cublasLtMatrixLayoutCreate = layoutCreate;
  driver.cublasLtMatrixLayoutDestroy = layoutDestroy;
  driver.cublasLtMatmulPreferenceCreate = preferenceCreate;
  driver.cublasLtMatmulPreferenceDestroy = preferenceDestroy;
  driver.cublasLtMatmulPreferenceSetAttribute = preferenceSet;
  driver.cublasLtMatmulAlgoGetHeuristic = heuristic;
  driver.cublasLtMatmul = matmul;
  driver.loadsSource = true;
  return driver;
}

} // namespace

const cuda::Driver *emulatedDriver(int arch) {
  static const cuda::Driver driver = makeDriver();
  emulatedArch = arch;
  return &driver;
}

EmulatorCounts emulatorCounts() { return counts; }

} // namespace lmc::testing
